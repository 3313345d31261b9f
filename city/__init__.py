"""The city tier: every hall's summary side by side (overview, page) and the city broker."""
