"""The soft caller's keys and screen, as pure functions over plain state."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from support.hall import SECRET, hall_config

from caller.session import ClerkAction, Lights
from caller.soft import (
    BACKSPACE,
    ENTER,
    ESCAPE,
    Act,
    Board,
    Intent,
    Keys,
    Mode,
    Quit,
    Rate,
    SignIn,
    SignOut,
    Transfer,
    decode_keys,
    press,
    render,
    transfer_target,
)
from hall.engine.engine import HallEngine
from hall.snapshots import hall_state
from protocol import messages as m

AT = datetime(2026, 11, 23, 9, 12, tzinfo=ZoneInfo("Asia/Shanghai"))
HALL = hall_state(HallEngine(hall_config(), date(2026, 11, 23), SECRET))


def board(**kwargs: object) -> Board:
    fields: dict[str, object] = {"counter": "3", "lights": Lights.IDLE, "hall": HALL}
    fields.update(kwargs)
    return Board(**fields)  # type: ignore[arg-type]


def typing(keys: list[str] | str, on: Board | None = None) -> tuple[Keys, list[Intent]]:
    """Press each key in turn; the keyboard's final state and every intent given."""
    state, intents = Keys(), []
    for key in keys:
        state, intent = press(state, key, on or board())
        if intent is not None:
            intents.append(intent)
    return state, intents


def serving_state(clerk: m.Clerk | None = None, services: list[str] | None = None
                  ) -> m.CounterState:
    return m.CounterState(counter="3", name="3号窗口", status=m.CounterStatus.OPEN,
                          services=services or ["*"], ticket="20261123-A012", number="A012",
                          ticket_status=m.TicketStatus.CALLED, clerk=clerk, since=AT,
                          recalls=1, updated=AT)


# ---------------------------------------------------------------- keys
@pytest.mark.parametrize(("key", "intent"), [
    ("n", Act(ClerkAction.NEXT)), ("N", Act(ClerkAction.NEXT)),
    ("r", Act(ClerkAction.RECALL)), ("d", Act(ClerkAction.DONE)),
    ("p", Act(ClerkAction.PAUSE)), ("o", SignOut()), ("q", Quit()),
    ("1", Rate(1)), ("5", Rate(5)),
])
def test_single_keys(key: str, intent: Intent) -> None:
    assert typing(key) == (Keys(), [intent])


def test_an_unknown_key_gives_a_hint_and_nothing_else() -> None:
    state, intents = typing("x")
    assert intents == [] and "no key 'x'" in state.hint


def test_sign_in_asks_staff_number_then_pin() -> None:
    state, intents = typing(["i", *"s001", ENTER, *"12x34", ENTER])
    assert intents == [SignIn("S001", "1234")]  # upper-cased; the PIN takes digits only
    assert state == Keys()


def test_the_pin_is_masked_on_screen() -> None:
    state, _ = typing(["i", *"S001", ENTER, *"1234"])
    assert state.mode is Mode.PIN
    bottom = render(board(), state)[-1]
    assert "****" in bottom and "1234" not in bottom and "S001" in bottom


def test_backspace_and_escape_in_a_prompt() -> None:
    state, _ = typing(["i", *"S009", BACKSPACE, "1"])
    assert state.typed == "S001"
    state, intents = typing(["i", *"S001", ESCAPE, "n"])
    assert intents == [Act(ClerkAction.NEXT)]  # after Esc, keys are keys again


def test_no_show_asks_for_confirmation() -> None:
    assert typing(["s", "y"])[1] == [Act(ClerkAction.NO_SHOW)]
    state, intents = typing(["s", "n"])
    assert intents == [] and state.hint == "no-show cancelled"
    assert "A012?" in render(board(state=serving_state()), Keys(mode=Mode.CONFIRM_NO_SHOW))[-1]


@pytest.mark.parametrize(("typed", "intent"), [
    ("E", Transfer("E", None)), ("e", Transfer("E", None)),
    ("11", Transfer(None, "11")), ("", Transfer(None, None)),
])
def test_transfer_to_a_service_a_counter_or_back_to_the_queue(typed: str,
                                                              intent: Transfer) -> None:
    assert typing(["t", *typed, ENTER])[1] == [intent]


def test_an_unknown_transfer_target_is_named() -> None:
    state, intents = typing(["t", *"Z9", ENTER])
    assert intents == [] and state.hint == "no service or counter 'Z9' in this hall"


def test_without_the_hall_state_a_letter_is_a_service_and_the_rest_a_counter() -> None:
    assert transfer_target("f", None) == Transfer("F", None)
    assert transfer_target("12", None) == Transfer(None, "12")


# ---------------------------------------------------------------- screen
def test_the_screen_shows_counter_ticket_clerk_rating_and_queues() -> None:
    shown = "\n".join(render(board(
        lights=Lights.SERVING, state=serving_state(m.Clerk(name="王丽", staff_no="S001"),
                                                   services=["A", "B"]),
        services={"A": _waiting("A", 5), "B": _waiting("B", 2)},
        armed_for="20261123-A011", message="called A012"), Keys()))
    assert "天平街道社区事务受理服务中心 · 3号窗口 · 服务中 serving" in shown
    assert "A012 (called since 09:12, recalls 1)" in shown
    assert "王丽 S001" in shown
    assert "awaiting a rating for A011" in shown
    assert " ► A   5  社会保险与就业" in shown
    assert " ► B   2  医疗保险" in shown
    assert "   C   ?  社会救助与助老助残" in shown  # not served here, count not yet known
    assert shown.endswith("> called A012")


def test_the_screen_before_anything_is_known() -> None:
    shown = "\n".join(render(Board(counter="3", lights=Lights.OFFLINE), Keys(hint="x")))
    assert "counter 3 · 离线 offline" in shown
    assert "waiting for the hall controller" in shown
    assert "未签到" not in shown
    assert shown.endswith("> x")


def _waiting(service: str, waiting: int) -> m.ServiceState:
    return m.ServiceState(service=service, waiting=waiting, estimated_wait_min=1.0,
                          longest_wait_min=1.0, issued_today=waiting, quota_left=None,
                          intake_open=True, updated=AT)


# ---------------------------------------------------------------- terminal bytes
@pytest.mark.parametrize(("data", "keys"), [
    (b"n", ["n"]),
    (b"S001\r", ["S", "0", "0", "1", ENTER]),
    (b"\r\n", [ENTER]),
    (b"\x7f\x08", [BACKSPACE, BACKSPACE]),
    (b"\x1b", [ESCAPE]),
    (b"\x1b[A\x1bOPq", ["q"]),  # arrow and F1 are dropped
    ("转".encode(), ["转"]),
])
def test_decode_keys(data: bytes, keys: list[str]) -> None:
    assert decode_keys(data) == keys
