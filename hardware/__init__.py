"""Device drivers and simulators for the hall: card readers, printers, buttons, LEDs."""
