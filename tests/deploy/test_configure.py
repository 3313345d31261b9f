"""The installer's file edits: the hall config and each device's settings come out valid for
the process that reads them, comments kept, the broker password moved to its credential;
Kivy's config gets one touch provider, and keeps it after Kivy itself rewrites the file."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from broker_config.generate import BrokerOptions, generate
from caller.settings import CallerSettings
from display.settings import load_display_settings
from hallconfig import load_hall_config
from installer import configure
from kiosk.settings import load_settings
from protocol.device import load_device_settings

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def provisioned(device: str, extra: str = "") -> str:
    """What ``python -m broker_config.provision add`` prints for a device."""
    return (f'[device]\nid = "{device}"\nhall = "tianping"\n\n[broker]\nhost = "10.0.0.2"\n'
            f'port = 8883\nusername = "{device}"\npassword = "pw-of-{device}"\n{extra}')


def test_hall_config_is_valid_with_state_and_secrets_where_the_unit_has_them(
        tmp_path: Path) -> None:
    example = (EXAMPLES / "hall.toml").read_text(encoding="utf-8")
    installed = configure.hall_config(example)
    path = tmp_path / "hall.toml"
    path.write_text(installed, encoding="utf-8")
    config = load_hall_config(path)
    assert config.journal == "/var/lib/lobby/hall-journal.sqlite3"
    assert config.hall.secret_file == "/etc/lobby/credentials/hall-secret"
    assert config.broker.password is None and config.broker.username == "controller"
    removed = set(example.splitlines()) - set(installed.splitlines())
    assert len(removed) == 2  # the two edited lines (no password); every comment is still there
    assert configure.hall_config(installed) == installed


@pytest.mark.parametrize(("example", "settings", "load"), [
    ("kiosk-1.toml", provisioned("kiosk-3"), load_settings),
    ("caller-3.toml", provisioned("caller-5", '\n[counter]\nid = "5"\n'),
     lambda p: load_device_settings(p, CallerSettings)),
    ("display-w3.toml", provisioned("display-w5", '\n[display]\nmode = "counter"\n'
                                                 'counter = "5"\n'), load_display_settings),
])
def test_device_settings_merge_into_the_example(tmp_path: Path, example: str, settings: str,
                                                load: object) -> None:
    base = (EXAMPLES / example).read_text(encoding="utf-8")
    text, password = configure.device_settings(base, settings)
    path = tmp_path / example
    path.write_text(text, encoding="utf-8")
    loaded = load(path)  # type: ignore[operator]
    given = tomllib.loads(settings)
    assert loaded.device.id == given["device"]["id"]
    assert loaded.broker.host == "10.0.0.2" and loaded.broker.port == 8883
    assert loaded.broker.password is None  # the credential broker-password supplies it
    assert password == f"pw-of-{given['device']['id']}"
    assert "password" not in tomllib.loads(text)["broker"]
    if "counter" in given:
        assert loaded.counter.id == "5"
    if "display" in given:
        assert (loaded.display.mode, loaded.display.counter) == ("counter", "5")
    assert "# = the MQTT user" in text  # the example's comments stay
    assert configure.device_settings(text, settings) == (text, password)


def test_set_key_adds_missing_keys_and_tables() -> None:
    text = 'top = 1\n\n[a]\nx = "1"  # keep me\n\n[b]\ny = 2\n'
    text = configure.set_key(text, "a", "x", "2")
    text = configure.set_key(text, "a", "z", True)
    text = configure.set_key(text, "c", "w", 1.5)
    text = configure.set_key(text, "", "top", 3)
    assert text == ('top = 3\n\n[a]\nx = "2"  # keep me\nz = true\n\n[b]\ny = 2\n'
                    '\n[c]\nw = 1.5\n')


@pytest.mark.parametrize(("settings", "named"), [
    ("[device]\nid = 'x'\n[reader.options]\nport = 1\n", "reader.options"),
    ("device = 3\n", "device must be a table"),
    ("[broker]\npassword = 5\n", "broker.password must be a string"),
    ("[device\n", "not valid TOML"),
])
def test_bad_settings_are_named(settings: str, named: str) -> None:
    with pytest.raises(configure.SettingsError, match=named.replace(".", r"\.")):
        configure.device_settings((EXAMPLES / "kiosk-1.toml").read_text(), settings)


def test_controller_password_comes_from_the_generated_credentials(tmp_path: Path) -> None:
    files = generate(load_hall_config(EXAMPLES / "hall.toml"), tmp_path,
                     BrokerOptions(run_as="root" if os.geteuid() == 0 else
                                   os.environ.get("USER", "nobody")))
    password = configure.controller_password(files.credentials_file.read_text())
    assert password == files.credentials["controller"].password
    with pytest.raises(configure.SettingsError, match=r"accounts\.controller"):
        configure.controller_password('[accounts.kiosk-1]\npassword = "x"\n')


def test_kivy_keeps_exactly_one_touch_provider(tmp_path: Path) -> None:
    """Kivy reads the installer's config.ini, fills in its defaults and writes it back;
    its [input] is still one mouse and one hidinput probe, and the installer leaves it be."""
    config_ini = tmp_path / "config.ini"
    assert configure.main(["kivy-input", str(config_ini)]) == 0
    env = {**os.environ, "KIVY_HOME": str(tmp_path), "KIVY_NO_ARGS": "1",
           "KIVY_NO_CONSOLELOG": "1"}
    env.pop("KIVY_NO_CONFIG", None)
    done = subprocess.run([sys.executable, "-c", "from kivy.config import Config; "
                           "print(sorted(Config.items('input')))"], env=env, text=True,
                          capture_output=True, timeout=60, check=True)
    assert done.stdout.strip() == str(sorted(configure.KIVY_INPUT.items()))
    rewritten = config_ini.read_text()
    assert "[graphics]" in rewritten  # Kivy did write its defaults into the file
    assert configure.kivy_input(rewritten) == rewritten

    doubled = rewritten.replace("[input]\n", "[input]\nmtdev_%(name)s = probesysfs,"
                                             "provider=mtdev\n")
    assert configure.kivy_input(doubled) == rewritten  # a second provider is taken out
