"""Manager accounts, sessions and the sign-in lockout, without a server."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from web.accounts import (
    Account,
    AccountBook,
    AccountsError,
    WebRole,
    check_password,
    hash_password,
    load_accounts,
    save_accounts,
)
from web.sessions import (
    FORGET_S,
    IDLE_S,
    LOCK_S,
    MAX_AGE_S,
    MAX_FAILURES,
    MAX_LOCK_S,
    MAX_RECORDS,
    Lockout,
    Sessions,
)

ROOT = Path(__file__).resolve().parents[2]


class Ticking:
    """A clock a test moves by hand (seconds, like time.monotonic)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_password_hashes_are_salted_and_checked() -> None:
    first, second = hash_password("correct horse", 1000), hash_password("correct horse", 1000)
    assert first != second  # a fresh salt each time
    assert first.startswith("pbkdf2_sha256$1000$")
    assert check_password("correct horse", first)
    assert not check_password("correct horsE", first)
    assert not check_password("correct horse", "plain-text")


def test_accounts_file_round_trip_is_private(tmp_path: Path) -> None:
    path = tmp_path / "managers.toml"
    accounts = {"wang": Account("wang", WebRole.MANAGER, hash_password("pw-123456", 1000)),
                "li.na": Account("li.na", WebRole.SUPERVISOR, hash_password("pw-654321", 1000))}
    save_accounts(path, accounts)
    assert load_accounts(path) == accounts
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


@pytest.mark.parametrize(("text", "named"), [
    ("[managers.wang]\nrole = \"boss\"\npassword_hash = \"x\"\n", "managers.wang.role"),
    ("[managers.wang]\nrole = \"manager\"\npassword_hash = \"x\"\n", "managers.wang.password_hash"),
    ("managers = 3\n", "[managers] must be a table"),
    ("[managers\n", "not valid TOML"),
])
def test_bad_accounts_file_names_the_problem(tmp_path: Path, text: str, named: str) -> None:
    path = tmp_path / "managers.toml"
    path.write_text(text)
    with pytest.raises(AccountsError, match=named.replace("[", r"\[").replace(".", r"\.")):
        load_accounts(path)


def test_book_rereads_a_changed_file(tmp_path: Path) -> None:
    path = tmp_path / "managers.toml"
    book = AccountBook(path)
    assert book.get("wang") is None
    save_accounts(path, {"wang": Account("wang", WebRole.MANAGER, hash_password("p" * 8, 1000))})
    account = book.get("wang")
    assert account is not None and account.role is WebRole.MANAGER
    path.write_text("[managers\n")  # a half-edited file keeps the accounts already known
    assert book.get("wang") == account


def run_cli(path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "web.accounts", "--file", str(path), *args],
                          input=stdin, capture_output=True, text=True, cwd=ROOT, timeout=30)


def test_cli_adds_lists_and_removes(tmp_path: Path) -> None:
    path = tmp_path / "managers.toml"
    added = run_cli(path, "add", "wang", "--role", "manager", "--password-stdin",
                    stdin="a-long-password\n")
    assert added.returncode == 0, added.stderr
    assert check_password("a-long-password", load_accounts(path)["wang"].password_hash)
    assert run_cli(path, "list").stdout.split() == ["wang", "manager"]
    assert run_cli(path, "remove", "wang").returncode == 0
    assert load_accounts(path) == {}


def test_cli_refuses_a_short_password_and_a_bad_name(tmp_path: Path) -> None:
    path = tmp_path / "managers.toml"
    short = run_cli(path, "add", "wang", "--role", "manager", "--password-stdin", stdin="short\n")
    assert short.returncode == 2 and "at least 8 characters" in short.stderr
    bad = run_cli(path, "add", "wang/x", "--role", "manager", "--password-stdin",
                  stdin="a-long-password\n")
    assert bad.returncode == 2 and "account name" in bad.stderr
    assert not path.exists()


def fail(lockout: Lockout, pair: tuple[str, str]) -> float:
    """One failed check for ``pair``: what ``end`` answers (seconds locked)."""
    assert lockout.begin(pair) == 0
    return lockout.end(pair, ok=False)


def test_lockout_after_five_failures_for_fifteen_minutes() -> None:
    clock = Ticking()
    lockout = Lockout(clock)
    pair = ("wang", "10.0.0.7")
    for _ in range(MAX_FAILURES - 1):
        assert fail(lockout, pair) == 0
    assert fail(lockout, pair) == pytest.approx(LOCK_S)
    assert lockout.begin(pair) == pytest.approx(LOCK_S)
    for other in (("wang", "10.0.0.8"), ("li", "10.0.0.7")):  # the pair only
        assert lockout.begin(other) == 0
        lockout.end(other, ok=True)
    clock.now += LOCK_S + 1
    assert lockout.begin(pair) == 0


def test_each_further_lock_lasts_twice_as_long_up_to_a_day() -> None:
    clock = Ticking()
    lockout = Lockout(clock)
    pair = ("wang", "10.0.0.7")
    locks = []
    for _ in range(10):
        for _ in range(MAX_FAILURES):
            wait = fail(lockout, pair)
        locks.append(wait)
        clock.now += wait + 1
    assert locks[:4] == [LOCK_S, 2 * LOCK_S, 4 * LOCK_S, 8 * LOCK_S]
    assert max(locks) == MAX_LOCK_S and locks[-1] == MAX_LOCK_S
    clock.now += FORGET_S + 1  # a quiet day: afresh
    for _ in range(MAX_FAILURES - 1):
        assert fail(lockout, pair) == 0
    assert fail(lockout, pair) == pytest.approx(LOCK_S)


def test_checks_in_flight_count_against_the_allowance() -> None:
    lockout = Lockout(Ticking())
    pair = ("wang", "10.0.0.7")
    reserved = [lockout.begin(pair) for _ in range(3 * MAX_FAILURES)]
    assert reserved.count(0.0) == MAX_FAILURES  # the rest refused before any answer
    for _ in range(MAX_FAILURES - 1):
        assert lockout.end(pair, ok=False) == 0
    assert lockout.end(pair, ok=True) == 0  # the right password among them
    assert lockout.begin(pair) == 0  # a success starts the pair afresh


def test_failures_spread_over_time_still_lock() -> None:
    clock = Ticking()
    lockout = Lockout(clock)
    pair = ("wang", "10.0.0.7")
    for _ in range(MAX_FAILURES - 1):
        assert fail(lockout, pair) == 0
        clock.now += LOCK_S  # slower than one every quarter hour does not help
    assert fail(lockout, pair) == pytest.approx(LOCK_S)


def test_a_flood_of_names_does_not_grow_memory_without_end() -> None:
    clock = Ticking()
    lockout = Lockout(clock)
    for n in range(3 * MAX_RECORDS):
        fail(lockout, (f"name{n}", "10.0.0.7"))
        clock.now += 0.01
    assert len(lockout._records) <= MAX_RECORDS


def test_sessions_expire_when_idle_or_old() -> None:
    clock = Ticking()
    sessions = Sessions(clock)
    session = sessions.start("wang", WebRole.MANAGER, "stamp")
    assert len(session.token) >= 40
    clock.now += IDLE_S - 1
    assert sessions.get(session.token) is session
    clock.now += IDLE_S + 1
    assert sessions.get(session.token) is None
    kept = sessions.start("wang", WebRole.MANAGER, "stamp")
    for _ in range(int(MAX_AGE_S // (IDLE_S / 2)) + 1):
        clock.now += IDLE_S / 2
        sessions.get(kept.token)
    assert sessions.get(kept.token) is None
    assert sessions.get("not-a-token") is None
