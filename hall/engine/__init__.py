"""The pure hall engine."""
