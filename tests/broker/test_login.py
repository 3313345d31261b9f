"""Logins on the real broker: every account works on both listeners, nothing else gets in."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.broker import NOT_AUTHORIZED, SyncClient

from broker_config.process import MosquittoProcess
from hallconfig import load_hall_config
from protocol.link import BrokerSettings


def _login(settings: BrokerSettings) -> int:
    client = SyncClient(settings)
    reason = client.connect()
    if not reason.is_failure:
        client.close()
    return int(reason.value)


def test_every_account_of_the_hall_can_log_in(broker: MosquittoProcess,
                                              hall_config_path: Path) -> None:
    config = load_hall_config(hall_config_path)
    users = ["controller", *(d.id for d in config.devices)]
    assert sorted(broker.credentials) == sorted(users)
    assert [_login(broker.broker_settings(u, lan=u.startswith("display"))) for u in users] == [
        0] * len(users)


@pytest.mark.parametrize("lan", [False, True])
def test_a_wrong_password_is_refused(broker: MosquittoProcess, lan: bool) -> None:
    settings = broker.broker_settings("kiosk-1", lan=lan).model_copy(update={"password": "wrong"})
    assert _login(settings) == NOT_AUTHORIZED


def test_another_devices_password_is_refused(broker: MosquittoProcess) -> None:
    kiosk2 = broker.broker_settings("kiosk-2")
    settings = kiosk2.model_copy(update={"username": "kiosk-1"})
    assert broker.credentials["kiosk-1"] != kiosk2.password
    assert _login(settings) == NOT_AUTHORIZED


@pytest.mark.parametrize("lan", [False, True])
def test_anonymous_is_refused(broker: MosquittoProcess, lan: bool) -> None:
    port = broker.lan_port if lan else broker.local_port
    assert _login(BrokerSettings(host="127.0.0.1", port=port)) == NOT_AUTHORIZED


def test_an_unknown_user_is_refused(broker: MosquittoProcess) -> None:
    settings = broker.broker_settings("kiosk-1").model_copy(update={"username": "kiosk-99"})
    assert _login(settings) == NOT_AUTHORIZED
