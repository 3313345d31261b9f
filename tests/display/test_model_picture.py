"""What the screens say: the words and states of the lobby wall and the counter screens."""

from __future__ import annotations

from display.model import DisplayModel
from display.picture import (
    clock_text,
    counter_picture,
    date_text,
    hours_text,
    lobby_picture,
    wait_text,
)
from display.sample import (
    HALL,
    PAUSED_COUNTER,
    SAMPLE_NOW,
    counter_state,
    hall_state,
    sample_call_topic,
    sample_model,
    service_states,
)
from protocol import messages as m
from protocol.topics import HallTopics, StateKind, parse

TOPICS = HallTopics(HALL)


def test_the_lobby_shows_the_call_as_the_hall_says_it() -> None:
    picture = lobby_picture(sample_model(), SAMPLE_NOW, 100.0)
    assert picture.current is not None
    assert (picture.current.number, picture.current.window) == ("A037", "3号窗口")
    assert picture.sentence == "请 A037 号 到 3号窗口"
    assert picture.sentence_en == "Number A037, please go to Window 3"
    assert not picture.flash and not picture.offline


def test_the_lobby_header_has_the_hall_date_clock_and_hours() -> None:
    header = lobby_picture(sample_model(), SAMPLE_NOW, 0).header
    assert header.name == "天平街道社区事务受理服务中心"
    assert header.date == "2026年5月11日 星期一"
    assert header.clock == "10:24:36"
    assert header.hours == "服务时间 08:30–16:30"
    closed = hall_state().model_copy(update={"open_at": None, "close_at": None})
    assert hours_text(closed) == "今日休息"
    assert date_text(SAMPLE_NOW.replace(day=17)).endswith("星期日")
    assert clock_text(SAMPLE_NOW) == "10:24:36"


def test_recent_calls_leave_out_the_current_one_and_list_a_recalled_ticket_once() -> None:
    model = sample_model()
    recall = m.CallEvent(seq=47, ticket="20260511-D007", number="D007", service="D",
                         counter="12", counter_name="12号窗口", recall=True, at=SAMPLE_NOW)
    model.fold(sample_call_topic(), recall, 0)
    picture = lobby_picture(model, SAMPLE_NOW, 0)
    assert picture.current is not None and picture.current.recall
    numbers = [line.number for line in picture.recent]
    assert "D007" not in numbers
    assert numbers[:3] == ["A037", "A036", "E019"]
    assert len(numbers) == 8


def test_waiting_per_service_in_the_halls_order() -> None:
    picture = lobby_picture(sample_model(), SAMPLE_NOW, 0)
    rows = {row.id: row for row in picture.services}
    assert [row.id for row in picture.services] == list("ABCDEFG")
    assert (rows["A"].waiting, rows["A"].wait) == ("14 人", "约 21 分钟")
    assert rows["C"].wait == "今日已满" and not rows["C"].open
    assert rows["G"].wait == "无需等候"
    assert picture.waiting_total == 40


def test_the_wait_text_of_a_service() -> None:
    state = service_states()[0]
    assert wait_text(state.model_copy(update={"intake_open": False})) == "停止取号"
    assert wait_text(state.model_copy(update={"estimated_wait_min": 0.2})) == "约 1 分钟"
    assert wait_text(state.model_copy(update={"waiting": 0})) == "无需等候"


def test_each_window_tile_says_what_the_window_is_doing() -> None:
    tiles = {t.id: t for t in lobby_picture(sample_model(), SAMPLE_NOW, 0).counters}
    assert [t for t in tiles] == [str(n) for n in range(1, 14)]
    assert (tiles["1"].state, tiles["1"].text) == ("serving", "B021")
    assert (tiles["3"].state, tiles["3"].text) == ("called", "A037")
    assert (tiles["5"].state, tiles["5"].text) == ("paused", "暂停")
    assert (tiles["7"].state, tiles["7"].text) == ("idle", "空闲")
    assert (tiles["9"].state, tiles["9"].text) == ("closed", "关闭")


def test_the_counter_screen_of_a_called_window_flashes_its_number() -> None:
    model = sample_model(0.0, flashing=True)
    picture = counter_picture(model, "3", 0.0)
    assert (picture.state, picture.headline, picture.number) == ("called", "请", "A037")
    assert picture.caption == "号 到本窗口办理"
    assert picture.clerk == "工作人员 张敏   工号 S003"
    assert picture.flash
    assert not counter_picture(model, "3", 60.0).flash
    assert not counter_picture(model, "12", 0.0).flash  # the new call is not theirs


def test_the_counter_screen_says_paused_closed_or_welcome() -> None:
    model = sample_model()
    paused = counter_picture(model, PAUSED_COUNTER, 0)
    assert (paused.state, paused.headline, paused.number) == ("paused", "暂停服务", "")
    assert counter_picture(model, "9", 0).headline == "暂停服务"
    idle = counter_picture(model, "7", 0)
    assert (idle.state, idle.headline) == ("idle", "欢迎光临")
    serving = counter_picture(model, "1", 0)
    assert (serving.state, serving.headline, serving.number) == ("serving", "正在办理", "B021")


def test_the_counter_screen_names_the_items_of_a_specialist_window() -> None:
    specialist = counter_picture(sample_model(), "12", 0)
    assert specialist.services == "社会救助与助老助残 · 婚育与计划生育"
    assert counter_picture(sample_model(), "2", 0).services == "综合窗口 · 受理全部事项"


def test_a_window_without_a_clerk_shows_no_name() -> None:
    model = sample_model()
    empty = counter_state("2").model_copy(update={"clerk": None})
    model.fold(parse(TOPICS.state(StateKind.COUNTER, "2")), empty, 0)
    assert counter_picture(model, "2", 0).clerk == ""


def test_a_counter_screen_before_any_state_is_unknown_and_offline() -> None:
    picture = counter_picture(DisplayModel(), "3", 0)
    assert picture.state == "unknown" and picture.offline and picture.number == ""
