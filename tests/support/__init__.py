"""Helpers shared by the tests: real parts set up for them (see broker.py)."""
