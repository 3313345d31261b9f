"""Root of the error tree for the hall's broker: its generated config and its process."""

from __future__ import annotations


class BrokerConfigError(Exception):
    """Any failure to configure or run the hall's Mosquitto broker."""


class AccountError(BrokerConfigError, ValueError):
    """A hall config whose devices cannot all get a broker account."""


class CredentialsError(BrokerConfigError, ValueError):
    """A credentials.toml or passwd file that cannot be read back; the message names it."""


class MosquittoMissing(BrokerConfigError, FileNotFoundError):
    """The mosquitto executable is not installed."""


class BrokerStartError(BrokerConfigError, RuntimeError):
    """Mosquitto exited or did not accept connections in time; the message quotes its log."""
