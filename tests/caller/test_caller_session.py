"""The window's pure logic: keys to commands, lights from state, the evaluator's arming."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from caller.session import (
    BEEP_HOLD,
    BEEP_NO_ANSWER,
    BEEP_REFUSED,
    ClerkAction,
    CounterSession,
    Lights,
    Order,
    Outcome,
)
from protocol import messages as m

AT = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
T1 = "20261123-A001"
T2 = "20261123-A002"


def counter_state(ticket: str | None = None, status: m.CounterStatus = m.CounterStatus.OPEN,
                  clerk: m.Clerk | None = None, counter: str = "3",
                  at: datetime = AT) -> m.CounterState:
    return m.CounterState(
        counter=counter, name="3号窗口", status=status, services=["*"], ticket=ticket,
        number=ticket.split("-")[1] if ticket else None,
        ticket_status=m.TicketStatus.CALLED if ticket else None, clerk=clerk, updated=at)


def session(**kwargs: Any) -> CounterSession:
    ids = count(1)
    return CounterSession("3", new_id=lambda: f"command-{next(ids):04d}", **kwargs)


def online(state: m.CounterState | None = None) -> CounterSession:
    s = session()
    s.see_link(True)
    s.see_controller(m.Presence(state=m.PresenceState.ONLINE, role=m.Role.CONTROLLER))
    s.see_counter(state or counter_state())
    return s


def ok(order: Order, **result: Any) -> m.Reply:
    return m.Reply(id=order.command.id, ok=True, result=result)


def called(ticket: str) -> dict[str, Any]:
    """A call_next result: ``ticket`` called, the counter serving it."""
    number = ticket.split("-")[1]
    view = m.TicketView(ticket=ticket, number=number, service=number[0],
                        status=m.TicketStatus.CALLED, channel=m.Channel.NORMAL, issued_at=AT,
                        counter="3")
    state = counter_state(ticket, at=AT + timedelta(2))
    return m.CallResult(called=view, counter=state).model_dump(mode="json")


def planned(outcome: Order | Outcome) -> Order:
    assert isinstance(outcome, Order), outcome
    return outcome


# ---------------------------------------------------------------- lights
def test_lights_are_offline_until_link_controller_and_state_are_all_there() -> None:
    s = session()
    assert s.lights is Lights.OFFLINE
    s.see_link(True)
    s.see_counter(counter_state())
    assert s.lights is Lights.OFFLINE  # the controller's presence is not known yet
    s.see_controller(m.Presence(state=m.PresenceState.ONLINE, role=m.Role.CONTROLLER))
    assert s.lights is Lights.IDLE


@pytest.mark.parametrize(("state", "lights"), [
    (counter_state(), Lights.IDLE),
    (counter_state(T1), Lights.SERVING),
    (counter_state(T1, m.CounterStatus.PAUSED), Lights.PAUSED),
    (counter_state(status=m.CounterStatus.CLOSED), Lights.PAUSED),
])
def test_lights_follow_the_counter(state: m.CounterState, lights: Lights) -> None:
    assert online(state).lights is lights


@pytest.mark.parametrize("presence", [m.PresenceState.OFFLINE, m.PresenceState.STOPPED, None])
def test_a_controller_that_is_not_online_means_offline(presence: m.PresenceState | None) -> None:
    s = online(counter_state(T1))
    s.see_controller(None if presence is None else m.Presence(state=presence,
                                                              role=m.Role.CONTROLLER))
    assert s.lights is Lights.OFFLINE


def test_losing_the_link_forgets_the_controller_presence_too() -> None:
    s = online()
    s.see_link(False)
    s.see_link(True)
    assert s.lights is Lights.OFFLINE  # until the retained presence comes again


def test_no_answer_shows_offline_until_the_counter_is_heard_again() -> None:
    s = online(counter_state(T1))
    outcome = s.settle(planned(s.order_for(ClerkAction.RECALL)), None)
    assert (outcome.ok, outcome.beeps) == (False, BEEP_NO_ANSWER)
    assert s.lights is Lights.OFFLINE
    s.see_counter(counter_state(T1, at=AT + timedelta(seconds=5)))
    assert s.lights is Lights.SERVING


def test_snapshots_of_other_counters_and_stale_reply_copies_are_ignored() -> None:
    s = online(counter_state(T2, at=AT + timedelta(seconds=10)))
    assert not s.see_counter(counter_state(counter="4", at=AT + timedelta(seconds=20)))
    assert not s.see_counter(counter_state(T1, at=AT), from_reply=True)
    assert s.state is not None and s.state.ticket == T2


def test_a_retained_snapshot_counts_even_if_the_controller_clock_went_back() -> None:
    s = online(counter_state(T2, at=AT + timedelta(seconds=10)))
    assert s.see_counter(counter_state(T1, at=AT))
    assert s.state is not None and s.state.ticket == T1


# ---------------------------------------------------------------- keys
@pytest.mark.parametrize(("action", "name", "model"), [
    (ClerkAction.NEXT, "call_next", m.CallNext),
    (ClerkAction.RECALL, "recall", m.Recall),
    (ClerkAction.NO_SHOW, "no_show", m.NoShow),
    (ClerkAction.DONE, "done", m.Done),
    (ClerkAction.TRANSFER, "transfer", m.Transfer),
    (ClerkAction.PAUSE, "pause", m.Pause),
])
def test_each_key_gives_its_command_for_this_counter(
        action: ClerkAction, name: str, model: type[m.Command]) -> None:
    order = planned(online(counter_state(T1)).order_for(action))
    assert order.name == name
    assert isinstance(order.command, model)
    assert order.command.counter == "3"  # type: ignore[attr-defined]


def test_next_and_done_carry_the_ticket_they_end_but_recall_does_not() -> None:
    s = online(counter_state(T1))
    assert planned(s.order_for(ClerkAction.NEXT)).ends == T1
    assert planned(s.order_for(ClerkAction.DONE)).ends == T1
    assert planned(s.order_for(ClerkAction.RECALL)).ends is None
    assert planned(online().order_for(ClerkAction.NEXT)).ends is None


def test_every_order_gets_a_fresh_command_id() -> None:
    s = online()
    first, second = (planned(s.order_for(ClerkAction.NEXT)) for _ in range(2))
    assert first.command.id != second.command.id


def test_the_pause_key_resumes_a_paused_counter_and_refuses_a_closed_one() -> None:
    assert planned(online(counter_state(status=m.CounterStatus.PAUSED))
                   .order_for(ClerkAction.PAUSE)).name == "resume"
    closed = online(counter_state(status=m.CounterStatus.CLOSED)).order_for(ClerkAction.PAUSE)
    assert isinstance(closed, Outcome) and closed.beeps == BEEP_REFUSED
    assert "closed" in closed.text


def test_a_tapped_hold_key_beeps_once_and_sends_nothing() -> None:
    outcome = online(counter_state(T1)).order_for(ClerkAction.NEEDS_HOLD)
    assert outcome == Outcome(False, "hold the key to confirm", BEEP_HOLD)


def test_keys_before_the_counter_state_is_known_are_refused() -> None:
    outcome = session().order_for(ClerkAction.NEXT)
    assert isinstance(outcome, Outcome) and not outcome.ok and "not known" in outcome.text


def test_the_transfer_key_goes_to_the_configured_target_or_the_queue_front() -> None:
    default = planned(online(counter_state(T1)).order_for(ClerkAction.TRANSFER)).command
    assert isinstance(default, m.Transfer)
    assert (default.to_service, default.to_counter) == (None, None)
    s = session(transfer_counter="11")
    s.see_counter(counter_state(T1))
    fixed = planned(s.order_for(ClerkAction.TRANSFER)).command
    assert isinstance(fixed, m.Transfer) and fixed.to_counter == "11"


def test_a_malformed_transfer_target_is_refused_with_a_reason() -> None:
    outcome = online(counter_state(T1)).transfer_order("e!", None)
    assert isinstance(outcome, Outcome) and "cannot transfer to 'e!'" in outcome.text


# ---------------------------------------------------------------- answers and the evaluator
def test_done_arms_the_evaluator_for_the_ticket_it_ended() -> None:
    s = online(counter_state(T1))
    order = planned(s.order_for(ClerkAction.DONE))
    outcome = s.settle(order, ok(order, counter=counter_state(at=AT + timedelta(1))
                                 .model_dump(mode="json")))
    assert outcome == Outcome(True, "A001 done", arm=T1)
    assert s.armed_for == T1
    assert s.lights is Lights.IDLE  # the reply's snapshot is taken at once


def test_next_while_serving_arms_for_the_ended_ticket_and_names_the_new_call() -> None:
    s = online(counter_state(T1))
    order = planned(s.order_for(ClerkAction.NEXT))
    outcome = s.settle(order, ok(order, **called(T2)))
    assert outcome.arm == T1
    assert outcome.text == "A001 done, called A002"


def test_the_next_call_from_an_idle_counter_disarms() -> None:
    s = online(counter_state(T1))
    done = planned(s.order_for(ClerkAction.DONE))
    s.settle(done, ok(done, counter=counter_state(at=AT + timedelta(1)).model_dump(mode="json")))
    call = planned(s.order_for(ClerkAction.NEXT))
    outcome = s.settle(call, ok(call, **called(T2)))
    assert outcome.disarm and outcome.arm is None
    assert s.armed_for is None


def test_a_rating_goes_to_the_armed_ticket_once() -> None:
    s = online(counter_state(T1))
    s.armed_for = T1
    first = planned(s.rating_order(5)).command
    assert isinstance(first, m.Evaluate)
    assert (first.ticket, first.rating, first.counter) == (T1, m.Rating.VERY_SATISFIED, "3")
    second = s.rating_order(2).command
    assert isinstance(second, m.Evaluate) and second.ticket is None  # the controller decides


@pytest.mark.parametrize("rating", [0, 6])
def test_a_rating_outside_1_to_5_is_an_error(rating: int) -> None:
    with pytest.raises(ValueError, match="1-5"):
        online().rating_order(rating)


def test_a_refusal_beeps_twice_and_names_the_reason() -> None:
    s = online()
    order = planned(s.order_for(ClerkAction.NEXT))
    reply = m.Reply(id=order.command.id, ok=False, error=m.ErrorInfo(
        code=m.ErrorCode.NOTHING_WAITING, message="nobody is waiting for this counter"))
    outcome = s.settle(order, reply)
    assert outcome == Outcome(False, "call_next: nobody is waiting for this counter",
                              BEEP_REFUSED)
    assert s.lights is Lights.IDLE  # a refusal is an answer: the link is fine


# ---------------------------------------------------------------- sign-in
def test_sign_in_checks_the_form_of_staff_number_and_pin_before_sending() -> None:
    s = online()
    assert planned(s.sign_in_order("S001", "1234")).name == "sign_in"
    bad_pin = s.sign_in_order("S001", "12a")
    assert isinstance(bad_pin, Outcome) and "PIN is 4-8 digits" in bad_pin.text
    bad_staff = s.sign_in_order("S 001", "1234")
    assert isinstance(bad_staff, Outcome) and "staff number" in bad_staff.text


def test_a_staff_card_signs_its_clerk_in_and_a_second_swipe_signs_out() -> None:
    s = online()
    sign_in = planned(s.card_order("0004123456"))
    assert isinstance(sign_in.command, m.SignIn)
    assert (sign_in.command.card, sign_in.command.staff_no, sign_in.command.pin) == (
        "0004123456", None, None)  # no PIN on the window's Pi: the controller knows the card
    s.see_counter(counter_state(clerk=m.Clerk(name="张敏", staff_no="S003"),
                                at=AT + timedelta(1)))
    assert planned(s.card_order("0004123456")).name == "sign_out"
    assert planned(s.card_order("0004999999")).name == "sign_in"  # another clerk's card


def test_an_unreadable_staff_card_is_refused_showing_only_its_last_digits() -> None:
    outcome = online().card_order("9999-888877")
    assert isinstance(outcome, Outcome) and not outcome.ok
    assert "8877" in outcome.text and "9999-888877" not in outcome.text


def test_a_sign_in_outcome_names_the_staff_number_not_the_clerk() -> None:
    s = online()
    order = planned(s.sign_in_order("S001", "1234"))
    clerk = counter_state(clerk=m.Clerk(name="王丽", staff_no="S001"), at=AT + timedelta(1))
    outcome = s.settle(order, ok(order, counter=clerk.model_dump(mode="json")))
    assert outcome == Outcome(True, "signed in: S001")
    assert s.state is not None and s.state.clerk == m.Clerk(name="王丽", staff_no="S001")
