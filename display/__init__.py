"""A hall's screens: the lobby wall, the small screen above each window, and the voice."""
