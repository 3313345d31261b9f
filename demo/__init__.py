"""The simulated hall: broker, controller and simulated devices on one machine."""
