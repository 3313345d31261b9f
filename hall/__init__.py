"""The hall controller, the single writer: engine, journal, command dispatcher, alerts."""
