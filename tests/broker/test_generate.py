"""The generator's files: hashes Mosquitto's own tool agrees with, stable passwords, a tight ACL."""

from __future__ import annotations

import base64
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from broker_config.credentials import check_password, hash_password, password_for, read_credentials
from broker_config.errors import AccountError, BrokerConfigError, CredentialsError
from broker_config.generate import BrokerOptions, generate, main
from hallconfig import HallConfig, load_hall_config
from protocol.messages import ALLOWED, Role

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def hall(hall_config_path: Path) -> HallConfig:
    return load_hall_config(hall_config_path)


def _files(directory: Path) -> dict[str, bytes]:
    names = ("mosquitto.conf", "passwd", "acl", "credentials.toml")
    return {name: (directory / name).read_bytes() for name in names}


def _acl_block(acl: str, user: str) -> list[str]:
    block = acl.split(f"\nuser {user}\n", 1)[1].split("\n\n", 1)[0]
    return block.strip().splitlines()


def test_hashes_match_mosquitto_passwd(tmp_path: Path) -> None:
    passwd = tmp_path / "passwd"
    passwd.touch()
    tool = shutil.which("mosquitto_passwd")
    assert tool is not None, "apt-get install mosquitto"
    subprocess.run([tool, "-b", str(passwd), "alice", "s3cret-pw"], check=True)
    theirs = passwd.read_text().strip().split(":", 1)[1]
    _, seven, iterations, salt, _ = theirs.split("$")
    assert (seven, iterations) == ("7", "101")
    assert hash_password("s3cret-pw", base64.b64decode(salt)) == theirs
    assert check_password("s3cret-pw", theirs)
    assert not check_password("s3cret-pX", theirs)


def test_writes_one_account_per_device_plus_the_controller(hall: HallConfig,
                                                           tmp_path: Path) -> None:
    files = generate(hall, tmp_path, BrokerOptions())
    creds = read_credentials(files.credentials_file)
    assert list(creds) == ["controller", *(d.id for d in hall.devices)]
    assert creds["caller-3"].role == "caller" and creds["display-w3"].role == "display"
    assert len({c.password for c in creds.values()}) == len(creds)
    hashes = dict(line.split(":", 1) for line in files.passwd.read_text().splitlines())
    assert all(check_password(creds[u].password, h) for u, h in hashes.items())
    assert list(hashes) == list(creds)
    assert password_for(files.credentials_file, "controller") == creds["controller"].password


def test_secrets_are_private(hall: HallConfig, tmp_path: Path) -> None:
    files = generate(hall, tmp_path, BrokerOptions())
    assert stat.S_IMODE(files.credentials_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(files.passwd.stat().st_mode) == 0o600
    assert stat.S_IMODE(files.state_dir.stat().st_mode) == 0o700


def test_regenerating_keeps_passwords_and_files(hall: HallConfig, tmp_path: Path) -> None:
    first = generate(hall, tmp_path, BrokerOptions())
    before = _files(tmp_path)
    again = generate(hall, tmp_path, BrokerOptions())
    assert again.credentials == first.credentials
    assert again.kept == len(first.credentials)
    assert _files(tmp_path) == before


def test_rotate_changes_every_password(hall: HallConfig, tmp_path: Path) -> None:
    first = generate(hall, tmp_path, BrokerOptions())
    old_passwd = set(first.passwd.read_text().splitlines())
    rotated = generate(hall, tmp_path, BrokerOptions(rotate=True))
    assert rotated.kept == 0
    assert all(rotated.credentials[u].password != c.password
               for u, c in first.credentials.items())
    assert not old_passwd & set(rotated.passwd.read_text().splitlines())


def test_a_removed_device_loses_its_account_and_others_keep_theirs(
        hall: HallConfig, tmp_path: Path) -> None:
    first = generate(hall, tmp_path, BrokerOptions())
    smaller = hall.model_copy(update={"devices": [d for d in hall.devices if d.id != "kiosk-2"]})
    second = generate(smaller, tmp_path, BrokerOptions())
    assert "kiosk-2" not in second.credentials
    assert "\nuser kiosk-2\n" not in second.acl.read_text()
    assert not any(line.startswith("kiosk-2:") for line in second.passwd.read_text().splitlines())
    assert second.credentials["kiosk-1"] == first.credentials["kiosk-1"]


def test_acl_gives_each_device_exactly_its_roles_commands(hall: HallConfig,
                                                          tmp_path: Path) -> None:
    acl = generate(hall, tmp_path, BrokerOptions()).acl.read_text()
    assert "\npattern " not in acl
    base = "lobby/tianping"
    for device, role in (("kiosk-1", Role.KIOSK), ("caller-7", Role.CALLER),
                         ("display-w7", Role.DISPLAY), ("upstream", Role.UPSTREAM)):
        writes = {line.split()[2] for line in _acl_block(acl, device)
                  if line.startswith("topic write") and "/cmd/" in line}
        assert writes == {f"{base}/cmd/{device}/{c}" for c in ALLOWED[role]}, device
    assert _acl_block(acl, "display-lobby") == [
        f"topic read {base}/state/#", f"topic read {base}/event/call",
        f"topic write {base}/presence/display-lobby", f"topic write {base}/health/display-lobby",
        f"topic read {base}/presence/controller"]
    assert _acl_block(acl, "controller") == [f"topic readwrite {base}/#"]


def test_a_device_may_not_be_called_controller(hall: HallConfig, tmp_path: Path) -> None:
    devices = [*hall.devices, hall.devices[0].model_copy(update={"id": "controller"})]
    with pytest.raises(AccountError, match="reserved"):
        generate(hall.model_copy(update={"devices": devices}), tmp_path, BrokerOptions())


def test_tls_files_go_under_the_lan_listener(hall: HallConfig, tmp_path: Path) -> None:
    cert, key = tmp_path / "server.crt", tmp_path / "server.key"
    cert.write_text("cert")
    key.write_text("key")
    plain = generate(hall, tmp_path / "plain", BrokerOptions()).conf.read_text()
    assert "\ncertfile" not in plain and "#   certfile" in plain
    conf = generate(hall, tmp_path / "tls", BrokerOptions(tls_cert=cert, tls_key=key))
    lan_section = conf.conf.read_text().split("\nlistener 8883 0.0.0.0\n", 1)[1]
    assert f"certfile {cert}\nkeyfile {key}" in lan_section


@pytest.mark.parametrize(("options", "problem"), [
    (BrokerOptions(local_port=1883, lan_port=1883), "both use port 1883"),
    (BrokerOptions(lan_port=70000), "LAN port 70000"),
    (BrokerOptions(tls_cert=Path("/nonexistent.crt")), "both --tls-cert and --tls-key"),
    (BrokerOptions(tls_cert=Path("/no.crt"), tls_key=Path("/no.key")), "/no.crt does not exist"),
    (BrokerOptions(lan_bind="0.0.0.0 1"), "cannot stand in mosquitto.conf"),
])
def test_bad_options_are_named(hall: HallConfig, tmp_path: Path, options: BrokerOptions,
                               problem: str) -> None:
    with pytest.raises(BrokerConfigError, match=problem):
        generate(hall, tmp_path, options)


def test_a_broken_credentials_file_is_named(hall: HallConfig, tmp_path: Path) -> None:
    (tmp_path / "credentials.toml").write_text("[accounts.kiosk-1]\npassword = 3\n")
    with pytest.raises(CredentialsError, match=r"accounts\.kiosk-1 needs a password"):
        generate(hall, tmp_path, BrokerOptions())


def test_command_line(hall_config_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "broker"
    args = ["--hall", str(hall_config_path), "--out", str(out), "--local-port", "1884",
            "--lan-port", "8884", "--lan-bind", "192.168.1.10", "--user", "mosquitto"]
    done = subprocess.run([sys.executable, "-m", "broker_config.generate", *args],
                          cwd=REPO, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    accounts = 1 + len(load_hall_config(hall_config_path).devices)  # and the controller
    assert f"0 passwords kept, {accounts} new" in done.stdout
    conf = (out / "mosquitto.conf").read_text()
    assert "\nlistener 1884 127.0.0.1\n" in conf and "\nlistener 8884 192.168.1.10\n" in conf
    assert "\nuser mosquitto\n" in conf and f"persistence_location {out}/data/\n" in conf
    assert main(args) == 0


def test_command_line_names_a_bad_hall_file(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--hall", str(tmp_path / "nope.toml"), "--out", str(tmp_path)]) == 2
    assert "nope.toml: no such file" in capsys.readouterr().err
