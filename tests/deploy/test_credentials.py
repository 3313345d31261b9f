"""The broker password as the units hand it over: from ``[broker] password_file``, or from the
systemd credential ``$CREDENTIALS_DIRECTORY/broker-password`` when the settings give neither.
Checked by logging in to the real broker; a literal password still wins."""

from __future__ import annotations

from pathlib import Path

import pytest

from broker_config.process import MosquittoProcess
from protocol.link import BrokerSettings, Link, LinkError
from protocol.messages import Role


def without_password(broker: MosquittoProcess, user: str, **extra: str) -> BrokerSettings:
    return broker.broker_settings(user).model_copy(update={"password": None, **extra})


async def logs_in(settings: BrokerSettings, device: str, wait: float = 5.0) -> bool:
    """Whether the link's login is accepted (a refusal just never connects: wait less)."""
    link = Link(settings, "tianping", device, Role.DISPLAY)
    try:
        await link.start(wait=wait)
    except LinkError:
        return False
    finally:
        await link.close()
    return True


async def test_password_file(broker: MosquittoProcess, tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text(broker.credentials["display-w1"] + "\n")
    assert await logs_in(without_password(broker, "display-w1", password_file=str(secret)),
                         "display-w1")
    secret.write_text("not-the-password\n")
    assert not await logs_in(without_password(broker, "display-w1", password_file=str(secret)),
                             "display-w1", wait=1.0)


async def test_systemd_credential(broker: MosquittoProcess, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "broker-password").write_text(broker.credentials["display-w2"])
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    assert await logs_in(without_password(broker, "display-w2"), "display-w2")
    wrong = broker.broker_settings("display-w2").model_copy(update={"password": "wrong"})
    assert not await logs_in(wrong, "display-w2", wait=1.0)  # a literal password is used as given


async def test_no_credential_means_no_password(broker: MosquittoProcess, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))  # empty: nothing passed
    assert not await logs_in(without_password(broker, "display-w3"), "display-w3", wait=1.0)


def test_missing_password_file_is_named(broker: MosquittoProcess, tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(LinkError, match=f"broker password file {missing}: No such file"):
        Link(without_password(broker, "display-w4", password_file=str(missing)), "tianping",
             "display-w4", Role.DISPLAY)
