"""TLS on the hall's LAN with the CA the installer makes (``python3 -m installer.tls``, as
``./install --role hall`` runs it): MQTT through Mosquitto's LAN listener with
``mosquitto_sub --cafile``, and both web listeners over HTTPS, in Chromium trusting the CA
through an NSS database of its own (and refusing the page when it does not trust it)."""

from __future__ import annotations

import os
import ssl
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import async_playwright
from support.hall import follow, start_controller

from broker_config.process import MosquittoProcess, free_port
from hall.controller import Controller
from hallconfig import (
    ConfigError,
    HallConfig,
    StatusPageSettings,
    WebSettings,
    load_hall_config,
)
from installer import configure
from protocol import messages as m
from protocol.link import new_command_id
from protocol.topics import CONTROLLER_ID, HallTopics, StateKind
from web.accounts import Account, WebRole, hash_password, save_accounts
from web.app import HSTS, WebServers, start_web
from web.hallview import HallView

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "hall.toml"
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
MANAGER = ("wang", "manager-pass-1")
JSON = {"Content-Type": "application/json"}
HOSTS = ("localhost", "127.0.0.1")


def make_tls(directory: Path, *hosts: str, hall_config: Path | None = None
             ) -> subprocess.CompletedProcess[str]:
    """Run the installer's TLS step (system python3, as ./install does)."""
    args = [arg for host in hosts for arg in ("--host", host)]
    if hall_config is not None:
        args += ["--hall-config", str(hall_config)]
    return subprocess.run(["python3", "-m", "installer.tls", str(directory), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)


def cert_hosts(cert: Path) -> str:
    return subprocess.run(["openssl", "x509", "-in", str(cert), "-noout", "-ext",
                           "subjectAltName"], capture_output=True, text=True,
                          check=True).stdout


def verifies(ca: Path, cert: Path) -> bool:
    return subprocess.run(["openssl", "verify", "-CAfile", str(ca), str(cert)],
                          capture_output=True, check=False).returncode == 0


@pytest.fixture(scope="module")
def hall_ca(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("tls")
    done = make_tls(directory, *HOSTS)
    assert done.returncode == 0, done.stderr
    return directory


@pytest.fixture(scope="module")
def other_ca(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CA of another hall: what a device or browser must not accept in place of ours."""
    directory = tmp_path_factory.mktemp("other-tls")
    assert make_tls(directory, *HOSTS).returncode == 0
    return directory


# ------------------------------------------------------------------ the installer's CA
def test_ca_key_is_private_and_certificates_verify_and_a_second_run_changes_nothing(
        tmp_path: Path) -> None:
    first = make_tls(tmp_path, *HOSTS, hall_config=EXAMPLE)
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("wrote") == 3
    assert (tmp_path / "ca.key").stat().st_mode & 0o777 == 0o600
    for name in ("broker", "web"):
        assert (tmp_path / f"{name}.key").stat().st_mode & 0o777 == 0o640
        assert verifies(tmp_path / "ca.crt", tmp_path / f"{name}.crt")
        names = cert_hosts(tmp_path / f"{name}.crt")
        # The hosts given, and those the example's [web] origins send the tablet to.
        for host in ("DNS:localhost", "IP Address:127.0.0.1", "DNS:lobby-hall.local",
                     "IP Address:192.168.1.10"):
            assert host in names
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    again = make_tls(tmp_path, *HOSTS, hall_config=EXAMPLE)
    assert again.returncode == 0, again.stderr
    assert "wrote" not in again.stdout and again.stdout.count("unchanged") == 3
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_a_certificate_is_issued_again_for_new_hosts_or_a_foreign_signature(
        tmp_path: Path, other_ca: Path) -> None:
    assert make_tls(tmp_path, *HOSTS).returncode == 0
    ca = (tmp_path / "ca.crt").read_bytes()
    more = make_tls(tmp_path, *HOSTS, "hall-7.example.org")
    assert more.returncode == 0 and more.stdout.count("wrote") == 2, more.stdout
    assert "DNS:hall-7.example.org" in cert_hosts(tmp_path / "web.crt")
    assert (tmp_path / "ca.crt").read_bytes() == ca  # the CA stays: devices keep trusting it
    (tmp_path / "broker.crt").write_bytes((other_ca / "broker.crt").read_bytes())
    fixed = make_tls(tmp_path, *HOSTS, "hall-7.example.org")
    assert f"wrote {tmp_path / 'broker.crt'}" in fixed.stdout
    assert f"unchanged {tmp_path / 'web.crt'}" in fixed.stdout
    assert verifies(tmp_path / "ca.crt", tmp_path / "broker.crt")


@pytest.mark.parametrize(("hosts", "says"), [
    (("bad host",), "'bad host' is not a host name or an IP address"),
    ((), "no host to certify"),
])
def test_bad_hosts_are_named(tmp_path: Path, hosts: tuple[str, ...], says: str) -> None:
    done = make_tls(tmp_path / "tls", *hosts)
    assert done.returncode == 2 and says in done.stderr
    assert not (tmp_path / "tls").exists()


def test_hall_config_gets_https_on_both_listeners_and_keeps_a_halls_own(tmp_path: Path) -> None:
    installed = configure.hall_tls(configure.hall_config(EXAMPLE.read_text(encoding="utf-8")),
                                   "/etc/lobby/tls/web.crt", "/etc/lobby/tls/web.key")
    path = tmp_path / "hall.toml"
    path.write_text(installed, encoding="utf-8")
    config = load_hall_config(path)
    for listener in (config.web, config.status_page):
        assert (listener.tls_cert, listener.tls_key) == ("/etc/lobby/tls/web.crt",
                                                         "/etc/lobby/tls/web.key")
    assert config.web.origins and all(o.startswith("https://") for o in config.web.origins)
    assert config.hall.status_url_base.startswith("https://")
    assert configure.hall_tls(installed, "/x.crt", "/x.key") == installed
    own = installed.replace('tls_cert = "/etc/lobby/tls/web.crt"',
                            'tls_cert = "/etc/ssl/hall.crt"', 1)
    assert configure.hall_tls(own, "/etc/lobby/tls/web.crt", "/etc/lobby/tls/web.key") == own


def test_a_certificate_without_its_key_is_named(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        "[status_page]\n", '[status_page]\ntls_cert = "/etc/lobby/tls/web.crt"\n', 1)
    path = tmp_path / "hall.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"status_page.*tls_cert and tls_key: give both"):
        load_hall_config(path)


# ------------------------------------------------------------------ MQTT over TLS
@pytest.fixture(scope="module")
def tls_broker(hall_ca: Path, tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[MosquittoProcess]:
    process = MosquittoProcess(load_hall_config(EXAMPLE), tmp_path_factory.mktemp("broker"),
                               tls_cert=hall_ca / "broker.crt", tls_key=hall_ca / "broker.key",
                               tls_ca=hall_ca / "ca.crt")
    with process:
        yield process


def mosquitto_sub(broker: MosquittoProcess, cafile: Path, host: str = "localhost",
                  user: str = "display-lobby") -> subprocess.CompletedProcess[str]:
    topic = HallTopics("tianping").state(StateKind.HALL)
    return subprocess.run(["mosquitto_sub", "-h", host, "-p", str(broker.lan_port), "--cafile",
                           str(cafile), "-u", user, "-P", broker.credentials[user], "-t", topic,
                           "-C", "1", "-W", "10", "-V", "mqttv5"],
                          capture_output=True, text=True, timeout=30, check=False)


def test_mqtt_over_tls_with_the_hall_ca_and_refused_with_another(
        tls_broker: MosquittoProcess, hall_ca: Path, other_ca: Path) -> None:
    topic = HallTopics("tianping").state(StateKind.HALL)
    pub = ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(tls_broker.local_port), "-u",
           CONTROLLER_ID, "-P", tls_broker.credentials[CONTROLLER_ID], "-t", topic, "-r",
           "-q", "1", "-V", "mqttv5"]
    subprocess.run([*pub, "-m", "tls-check"], check=True, timeout=30)  # local: plain
    try:
        for host in HOSTS:  # by name and by address, each in the certificate
            done = mosquitto_sub(tls_broker, hall_ca / "ca.crt", host)
            assert (done.returncode, done.stdout) == (0, "tls-check\n"), done.stderr
        refused = mosquitto_sub(tls_broker, other_ca / "ca.crt")
        assert refused.returncode != 0 and "tls-check" not in refused.stdout
        assert "A TLS error occurred" in refused.stderr, refused.stderr
    finally:
        subprocess.run([*pub, "-n"], check=True, timeout=30)


# ------------------------------------------------------------------ HTTPS
class HttpsHall:
    """A controller with both web listeners on HTTPS (the installer's web.crt)."""

    def __init__(self, controller: Controller, view: HallView, servers: WebServers, url: str,
                 status_url: str) -> None:
        self.controller, self.view, self.servers = controller, view, servers
        self.url, self.status_url = url, status_url

    async def ticket_url(self) -> tuple[str, str]:
        reply = await self.controller.execute("issue", m.IssueTicket(
            id=new_command_id(), service="A", print_on_kiosk=False))
        assert reply.ok and reply.result
        await self.view.settled(self.controller.rev)
        number = str(reply.result["ticket"]["number"])
        ticket = next(t for t in self.controller.engine.tickets.values() if t.number == number)
        return number, f"{self.status_url}/t/{ticket.token}"


@pytest.fixture
async def https_hall(tls_broker: MosquittoProcess, hall_ca: Path,
                     tmp_path: Path) -> AsyncIterator[HttpsHall]:
    controller = await start_controller(tls_broker, tmp_path)
    managers = tmp_path / "managers.toml"
    save_accounts(managers, {MANAGER[0]: Account(MANAGER[0], WebRole.MANAGER,
                                                 hash_password(MANAGER[1], 1000))})
    tls = {"tls_cert": str(hall_ca / "web.crt"), "tls_key": str(hall_ca / "web.key")}
    port = free_port()
    url = f"https://localhost:{port}"  # the name the tablet opens it at, as [web] origins says
    manager = WebSettings(host="127.0.0.1", port=port, origins=[url], **tls)
    status = StatusPageSettings(host="127.0.0.1", port=free_port(), **tls)
    view = await follow(controller, tls_broker, tmp_path)
    servers = await start_web(view, manager, status, managers)
    yield HttpsHall(controller, view, servers, url, f"https://localhost:{status.port}")
    await servers.cleanup()
    await view.stop()
    await controller.stop()


def trusting(ca: Path) -> aiohttp.ClientSession:
    context = ssl.create_default_context(cafile=str(ca))
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context))


async def test_https_sends_hsts_a_secure_cookie_and_takes_writes_from_its_own_origin(
        https_hall: HttpsHall, hall_ca: Path, other_ca: Path) -> None:
    _, ticket = await https_hall.ticket_url()
    async with trusting(hall_ca / "ca.crt") as session:
        for url in (ticket, f"{https_hall.url}/login"):
            page = await session.get(url)
            assert page.status == 200
            assert page.headers["Strict-Transport-Security"] == HSTS
        origin = https_hall.url.replace("localhost", "127.0.0.1")
        login = await session.post(f"{origin}/api/login", json=dict(zip(
            ("name", "password"), MANAGER, strict=True)), headers={"Origin": origin})
        assert login.status == 200, await login.text()
        cookie = login.headers["Set-Cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie
    async with trusting(other_ca / "ca.crt") as session:
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            await session.get(ticket)
    async with aiohttp.ClientSession() as plain:
        with pytest.raises(aiohttp.ClientError):
            await plain.get(ticket.replace("https://", "http://"))


async def test_a_missing_certificate_is_named(tmp_path: Path, tls_broker: MosquittoProcess,
                                              hall_ca: Path) -> None:
    controller = await start_controller(tls_broker, tmp_path, staffed=False)
    view = await follow(controller, tls_broker, tmp_path)
    try:
        missing = WebSettings(port=free_port(), tls_cert=str(tmp_path / "none.crt"),
                              tls_key=str(hall_ca / "web.key"))
        with pytest.raises(OSError, match=r"manager's web app: cannot load tls_cert .*none\.crt"):
            await start_web(view, missing, StatusPageSettings(port=free_port()))
    finally:
        await view.stop()
        await controller.stop()


def nss_home(directory: Path, ca: Path | None) -> Path:
    """A HOME whose NSS database (Chromium's certificate store on Linux) trusts ``ca``."""
    nssdb = directory / ".pki" / "nssdb"
    nssdb.mkdir(parents=True)
    subprocess.run(["certutil", "-N", "-d", f"sql:{nssdb}", "--empty-password"], check=True)
    if ca is not None:
        subprocess.run(["certutil", "-A", "-d", f"sql:{nssdb}", "-t", "C,,", "-n", "hall-ca",
                        "-i", str(ca)], check=True)
    return directory


@pytest.mark.browser
async def test_chromium_opens_both_apps_over_https_when_it_trusts_the_hall_ca(
        https_hall: HttpsHall, hall_ca: Path, tmp_path: Path) -> None:
    number, ticket = await https_hall.ticket_url()
    for trusted in (True, False):
        home = nss_home(tmp_path / f"home-{trusted}", hall_ca / "ca.crt" if trusted else None)
        env = {**os.environ, "HOME": str(home)}
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS,
                                                       env=env)
            try:
                page = await browser.new_page()  # ignore_https_errors stays False
                if not trusted:
                    with pytest.raises(PlaywrightError, match="ERR_CERT_AUTHORITY_INVALID"):
                        await page.goto(ticket)
                    continue
                await page.goto(ticket)
                await page.locator("#number").filter(has_text=number).wait_for()
                await page.goto(f"{https_hall.url}/login")
                await page.get_by_label("账号").fill(MANAGER[0])
                await page.get_by_label("密码").fill(MANAGER[1])
                await page.get_by_role("button", name="登录").click()
                await page.wait_for_url(f"{https_hall.url}/live")
                await page.locator("#conn.up").wait_for()
                assert await page.evaluate("window.isSecureContext") is True
            finally:
                await browser.close()


def test_hall_config_model_accepts_both_or_neither() -> None:
    example = load_hall_config(EXAMPLE)
    assert example.web.tls_cert is None and example.status_page.tls_key is None
    raw = example.model_dump()
    raw["web"].update(tls_cert="/a.crt", tls_key="/a.key")
    assert HallConfig.model_validate(raw).web.tls_key == "/a.key"
