"""The hall controller: engine, journal, dispatcher and web app."""
