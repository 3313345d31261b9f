"""The lobby display: the hall-wide screen of calls and the voice that announces them."""
