"""A sample hall at 10:24 on a busy Monday: the messages a display would have received.

Used by ``python -m display --screenshot FILE --sample`` and by the tests. It mirrors
examples/hall.toml (hall "tianping") without reading it: a display never imports ``hall/``.
``Called`` puts a hall's own number and window name in place of the sample's newest call,
so an installer can preview how their numbers look (``--call``, ``--window``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from display.model import DisplayModel
from protocol import messages as m
from protocol.topics import CONTROLLER_ID, EventKind, HallTopics, StateKind, Topic, parse

HALL = "tianping"
ZONE = ZoneInfo("Asia/Shanghai")
SAMPLE_NOW = datetime(2026, 5, 11, 10, 24, 36, tzinfo=ZONE)
PAUSED_COUNTER = "5"
NOTICE = ("今日 14:00–15:00 医保系统升级，医疗保险业务暂停受理，敬请谅解。"
          "办理业务请携带本人身份证原件；70 岁以上老人、残疾人请走绿色通道。")

# id, name, English name, daily quota, waiting, estimated wait (min), issued so far
SERVICES = [
    ("A", "社会保险与就业", "Social insurance & employment", 160, 14, 21.4, 51),
    ("B", "医疗保险", "Medical insurance", 120, 9, 12.2, 30),
    ("C", "社会救助与助老助残", "Social assistance, elderly & disability", 70, 3, 16.0, 70),
    ("D", "婚育与计划生育", "Marriage, birth & family planning", 60, 2, 10.6, 9),
    ("E", "居住证与来沪登记", "Residence permit & registration", 110, 7, 8.7, 26),
    ("F", "敬老卡与社保卡", "Senior card & social security card", 100, 5, 4.2, 29),
    ("G", "房屋租赁与其他", "Housing lease & other items", 70, 0, 0.0, 11),
]
CLERKS = ["王丽", "李强", "张敏", "刘洋", "陈静", "杨帆", "赵磊", "黄婷", "周杰", "吴芳", "徐明",
          "孙悦", "马超"]
SKILLS = {"10": ["A", "B"], "11": ["E"], "12": ["C", "D"], "13": ["F", "G"]}
# counter -> (status, number in hand, ticket status)
WINDOWS: dict[str, tuple[m.CounterStatus, str | None, m.TicketStatus | None]] = {
    "1": (m.CounterStatus.OPEN, "B021", m.TicketStatus.SERVING),
    "2": (m.CounterStatus.OPEN, "A035", m.TicketStatus.SERVING),
    "3": (m.CounterStatus.OPEN, "A037", m.TicketStatus.CALLED),
    "4": (m.CounterStatus.OPEN, "E018", m.TicketStatus.SERVING),
    "5": (m.CounterStatus.PAUSED, None, None),
    "6": (m.CounterStatus.OPEN, "F024", m.TicketStatus.SERVING),
    "7": (m.CounterStatus.OPEN, None, None),
    "8": (m.CounterStatus.OPEN, "C009", m.TicketStatus.SERVING),
    "9": (m.CounterStatus.CLOSED, None, None),
    "10": (m.CounterStatus.OPEN, "A036", m.TicketStatus.SERVING),
    "11": (m.CounterStatus.OPEN, "E019", m.TicketStatus.SERVING),
    "12": (m.CounterStatus.OPEN, "D007", m.TicketStatus.CALLED),
    "13": (m.CounterStatus.OPEN, "G011", m.TicketStatus.SERVING),
}
# newest first: (number, counter)
RECENT = [("A037", "3"), ("D007", "12"), ("A036", "10"), ("E019", "11"), ("F024", "6"),
          ("B021", "1"), ("G011", "13"), ("A035", "2"), ("C009", "8"), ("E018", "4")]
FIRST_SEQ = 46
CALLED_COUNTER = "3"  # the window the sample's newest call (A037) goes to
TICKET_NUMBER = re.compile(r"[A-Z][0-9]{3,4}")  # prefix letter, 001-999 (or 4 digits)


@dataclass(frozen=True, slots=True)
class Called:
    """The sample's newest call, to be drawn in place of A037 to 3号窗口."""

    number: str = RECENT[0][0]
    counter: str = CALLED_COUNTER
    name: str = f"{CALLED_COUNTER}号窗口"
    name_en: str = f"Window {CALLED_COUNTER}"

    @classmethod
    def choose(cls, number: str | None, window: str | None, counter: str) -> Called:
        """Ticket ``number`` called to ``counter``, named ``window`` (digits N: N号窗口).

        Neither given: the sample's own call. ValueError names a number the hall cannot
        issue or an empty window name.
        """
        if number is None and window is None:
            return cls()
        number = number or RECENT[0][0]
        if not TICKET_NUMBER.fullmatch(number):
            raise ValueError(f"--call {number!r}: a ticket number is a letter A-Z and 3 or 4 "
                             "digits, e.g. A037 or W1024")
        if window is None or window.isdigit():
            window = window or counter
            return cls(number, counter, f"{window}号窗口", f"Window {window}")
        if not window.strip():
            raise ValueError("--window: give the window's name, e.g. 13 or \"13号窗口 · 综合\"")
        return cls(number, counter, window.strip(), f"Window {counter}")


SAMPLE_CALL = Called()


def _name(counter: str, called: Called) -> tuple[str, str]:
    """A window's (name, English name): the called window's may be the installer's own."""
    if counter == called.counter:
        return called.name, called.name_en
    return f"{counter}号窗口", f"Window {counter}"


def hall_state(called: Called = SAMPLE_CALL) -> m.HallState:
    """The hall's information, as the controller publishes it."""
    return m.HallState(
        hall=HALL, name="天平街道社区事务受理服务中心",
        name_en="Tianping Community Affairs Acceptance Centre", timezone=str(ZONE),
        date=SAMPLE_NOW.date().isoformat(), open_at="08:30", close_at="16:30", notice=NOTICE,
        green_age=70,
        services=[m.ServiceInfo(id=s, name=n, name_en=en, daily_quota=q, last_ticket="16:00")
                  for s, n, en, q, *_ in SERVICES],
        counters=[m.CounterInfo(id=c, name=_name(c, called)[0], name_en=_name(c, called)[1],
                                services=SKILLS.get(c, ["*"])) for c in WINDOWS],
        status_url_base="http://127.0.0.1:8080/t/")


def service_states() -> list[m.ServiceState]:
    """Waiting and estimated wait of each item: C has used its quota."""
    states = []
    for service, _, _, quota, waiting, estimate, issued in SERVICES:
        states.append(m.ServiceState(
            service=service, waiting=waiting, estimated_wait_min=estimate,
            longest_wait_min=round(estimate * 1.4, 1), issued_today=issued,
            quota_left=quota - issued, intake_open=True, updated=SAMPLE_NOW))
    return states


def counter_state(counter: str, called: Called = SAMPLE_CALL) -> m.CounterState:
    """One window: serving, called, paused (5), idle (7) or closed (9)."""
    status, number, ticket_status = WINDOWS[counter]
    if counter == called.counter:
        status, number, ticket_status = (m.CounterStatus.OPEN, called.number,
                                         m.TicketStatus.CALLED)
    index = int(counter) - 1
    clerk = None if status is m.CounterStatus.CLOSED else m.Clerk(
        name=CLERKS[index], staff_no=f"S{index + 1:03d}")
    ticket = f"{SAMPLE_NOW:%Y%m%d}-{number}" if number else None
    return m.CounterState(
        counter=counter, name=_name(counter, called)[0], status=status,
        services=SKILLS.get(counter, ["*"]), ticket=ticket, number=number,
        ticket_status=ticket_status, clerk=clerk, since=SAMPLE_NOW - timedelta(minutes=3),
        updated=SAMPLE_NOW)


def recent_calls(skip: int = 0, called: Called = SAMPLE_CALL) -> m.RecentCalls:
    """The last ten calls, newest first, leaving out the ``skip`` newest."""
    calls = []
    recent = [(called.number, called.counter), *RECENT[1:]]
    for i, (number, counter) in enumerate(recent[skip:], start=skip):
        calls.append(m.CallEvent(
            seq=FIRST_SEQ - i, ticket=f"{SAMPLE_NOW:%Y%m%d}-{number}", number=number,
            service=number[0], counter=counter, counter_name=_name(counter, called)[0],
            recall=False,
            at=SAMPLE_NOW - timedelta(minutes=2 * i, seconds=20)))
    return m.RecentCalls(calls=calls)


def sample_messages(skip_calls: int = 0,
                    called: Called = SAMPLE_CALL) -> list[tuple[Topic, m.Message]]:
    """The retained state a display reads on connecting to the sample hall."""
    topics = HallTopics(HALL)
    found: list[tuple[str, m.Message]] = [
        (topics.presence(CONTROLLER_ID),
         m.Presence(state=m.PresenceState.ONLINE, role=m.Role.CONTROLLER)),
        (topics.state(StateKind.HALL), hall_state(called)),
    ]
    found += [(topics.state(StateKind.SERVICE, s.service), s) for s in service_states()]
    found += [(topics.state(StateKind.COUNTER, c), counter_state(c, called)) for c in WINDOWS]
    found.append((topics.state(StateKind.CALLS), recent_calls(skip_calls, called)))
    return [(parse(topic), message) for topic, message in found]


def sample_call_topic() -> Topic:
    """The topic live calls arrive on."""
    return parse(HallTopics(HALL).event(EventKind.CALL))


def sample_model(mono: float = 0.0, *, flashing: bool = False,
                 called: Called = SAMPLE_CALL) -> DisplayModel:
    """A model that has read the sample hall; ``flashing``: its newest call arrives live."""
    model = DisplayModel()
    model.set_link(True)
    for topic, message in sample_messages(1 if flashing else 0, called):
        model.fold(topic, message, mono)
    if flashing:
        model.fold(sample_call_topic(), recent_calls(0, called).calls[0], mono)
    return model
