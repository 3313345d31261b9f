"""The ticket kiosk: a Kivy touchscreen app around a pure state machine (see README.md)."""
