"""The installer's helpers: ./install runs them with the system python3 (standard library only)."""
