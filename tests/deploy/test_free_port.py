"""free_port(): the tests' and the demo's listening ports come from below the kernel's range
for outgoing connections, so no client's connection can take one before its listener binds
it (CI once failed on that: a web listener's port, picked from the OS, was in use)."""

from __future__ import annotations

import socket
from pathlib import Path

from broker_config.process import FREE_PORTS_FROM, _ephemeral_low, free_port


def test_a_free_port_is_below_the_outgoing_range_and_free_to_listen_on() -> None:
    low = _ephemeral_low()
    ports = {free_port() for _ in range(50)}
    assert all(FREE_PORTS_FROM <= p < low for p in ports)
    assert len(ports) > 1  # picked at random, so two tests seldom pick alike
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", ports.pop()))
        listener.listen()


def test_the_outgoing_range_is_read_from_the_kernel_or_assumed(tmp_path: Path) -> None:
    given = tmp_path / "ip_local_port_range"
    given.write_text("40000\t60999\n")
    assert _ephemeral_low(given) == 40000
    given.write_text("nonsense")
    assert _ephemeral_low(given) == 32768
    assert _ephemeral_low(tmp_path / "missing") == 32768
    given.write_text("1024\t65535\n")  # no room below it: the usual range is assumed
    assert _ephemeral_low(given) == 32768
