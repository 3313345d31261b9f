"""The hall's own Mosquitto broker: generated config, accounts, ACL, and a process to run it."""
