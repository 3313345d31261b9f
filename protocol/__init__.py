"""The MQTT contract between the parts of the hall."""
