"""The announcement queue and the speakers it plays through."""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
from collections.abc import AsyncIterator

import pytest

from display.voice.announcer import AnnouncementQueue
from display.voice.phrase import render_announcement
from voice.errors import SpeakerChoiceError, SpeakerError, UnspeakableError
from voice.pack import VoicePack
from voice.speaker import (
    CommandSpeaker,
    PlayedAnnouncement,
    RecordingSpeaker,
    choose_speaker,
    player_command,
)

TIMEOUT = 10.0


@pytest.fixture
def speaker() -> RecordingSpeaker:
    return RecordingSpeaker(speed=2000.0)


@pytest.fixture
async def running(
    pack: VoicePack, speaker: RecordingSpeaker
) -> AsyncIterator[tuple[AnnouncementQueue, asyncio.Task[None]]]:
    queue = AnnouncementQueue(pack, speaker)
    task = asyncio.create_task(queue.run())
    yield queue, task
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def assert_one_at_a_time(played: list[PlayedAnnouncement]) -> None:
    for before, after in itertools.pairwise(played):
        assert before.end <= after.start, (before.title, after.title)


async def test_calls_play_in_order_one_at_a_time(
    running: tuple[AnnouncementQueue, asyncio.Task[None]], speaker: RecordingSpeaker
) -> None:
    queue, _ = running
    called: list[str] = []

    async def clerk(window: str, numbers: list[str]) -> None:
        for number in numbers:
            called.append(queue.announce(number, window).title)
            await asyncio.sleep(0)

    await asyncio.gather(
        clerk("3", ["A012", "A013", "A014"]),
        clerk("12", ["B101", "B102", "B103"]),
        clerk("21", ["C007", "C008", "C009"]),
    )
    await asyncio.wait_for(queue.join(), TIMEOUT)
    assert called[:3] == ["A012 → 3", "B101 → 12", "C007 → 21"]
    assert speaker.titles == called
    assert_one_at_a_time(speaker.played)
    assert all(p.end - p.start >= p.audio.duration / speaker.speed for p in speaker.played)


async def test_calls_from_other_threads_are_all_said_in_the_order_called(
    running: tuple[AnnouncementQueue, asyncio.Task[None]], speaker: RecordingSpeaker
) -> None:
    queue, _ = running
    start = threading.Barrier(3)
    order = threading.Lock()
    called: list[str] = []

    def window_keypad(window: str) -> None:
        start.wait(TIMEOUT)
        for n in range(5):
            with order:
                called.append(queue.announce(f"A{window}{n:02d}", window).title)

    await asyncio.gather(*(asyncio.to_thread(window_keypad, w) for w in ("1", "2", "3")))
    assert await asyncio.to_thread(speaker.wait_until_played, 15, TIMEOUT)
    assert speaker.titles == called
    for window in ("1", "2", "3"):
        mine = [t for t in speaker.titles if t.endswith(f"→ {window}")]
        assert mine == [f"A{window}{n:02d} → {window}" for n in range(5)]
    assert_one_at_a_time(speaker.played)


async def test_a_recall_of_a_queued_number_is_said_again(
    running: tuple[AnnouncementQueue, asyncio.Task[None]], speaker: RecordingSpeaker
) -> None:
    queue, _ = running
    queue.announce("A012", "3")
    queue.announce("B003", "4")
    queue.announce("A012", "3", recall=True)
    await asyncio.wait_for(queue.join(), TIMEOUT)
    assert speaker.titles == ["A012 → 3", "B003 → 4", "A012 → 3 (recall)"]
    first, recall = speaker.played[0].audio, speaker.played[2].audio
    assert recall == first


async def test_backlog_says_each_call_once_and_logs_it(
    pack: VoicePack, speaker: RecordingSpeaker, caplog: pytest.LogCaptureFixture
) -> None:
    queue = AnnouncementQueue(pack, speaker, backlog=3)
    calls = [("A001", "1"), ("A002", "2"), ("A003", "3"), ("A004", "4"), ("A005", "5")]
    for number, window in calls:
        queue.announce(number, window)
    assert queue.waiting == 5
    task = asyncio.create_task(queue.run())
    with caplog.at_level(logging.INFO, logger="display.voice.announcer"):
        await asyncio.wait_for(queue.join(), TIMEOUT)
    task.cancel()
    said = [p.audio for p in speaker.played]
    for (number, window), audio, repeat in zip(calls, said, [1, 1, 2, 2, 2], strict=True):
        assert audio == render_announcement(pack, number, window, repeat=repeat), number
    assert "backlog of 5 calls: saying A001 → 1 once" in caplog.text
    assert "backlog of 4 calls: saying A002 → 2 once" in caplog.text
    assert "A003 → 3 once" not in caplog.text


async def test_english_and_repeat_settings_reach_the_speaker(
    pack: VoicePack, speaker: RecordingSpeaker
) -> None:
    queue = AnnouncementQueue(pack, speaker, english=True, repeat=1)
    queue.announce("C007", "21")
    task = asyncio.create_task(queue.run())
    await asyncio.wait_for(queue.join(), TIMEOUT)
    task.cancel()
    assert speaker.played[0].audio == render_announcement(pack, "C007", "21", True, 1)


async def test_an_unplugged_speaker_is_logged_and_the_queue_goes_on(
    running: tuple[AnnouncementQueue, asyncio.Task[None]],
    speaker: RecordingSpeaker,
    caplog: pytest.LogCaptureFixture,
) -> None:
    queue, task = running
    speaker.unplug()
    with caplog.at_level(logging.ERROR, logger="display.voice.announcer"):
        queue.announce("A012", "3")
        await asyncio.wait_for(queue.join(), TIMEOUT)
    assert "could not announce A012 → 3: speaker unplugged" in caplog.text
    speaker.plug_in()
    queue.announce("A013", "3")
    await asyncio.wait_for(queue.join(), TIMEOUT)
    assert speaker.titles == ["A013 → 3"]
    assert not task.done()


async def test_unspeakable_calls_are_refused_when_queued(
    running: tuple[AnnouncementQueue, asyncio.Task[None]],
) -> None:
    queue, _ = running
    with pytest.raises(UnspeakableError, match="no clip can say '#'"):
        queue.announce("A#12", "3")
    assert queue.waiting == 0


async def test_one_queue_cannot_run_twice(
    running: tuple[AnnouncementQueue, asyncio.Task[None]],
) -> None:
    queue, _ = running
    queue.announce("A012", "3")
    await asyncio.wait_for(queue.join(), TIMEOUT)
    with pytest.raises(RuntimeError, match="already running"):
        await queue.run()


def test_queue_settings_are_checked(pack: VoicePack, speaker: RecordingSpeaker) -> None:
    with pytest.raises(ValueError, match="backlog 0"):
        AnnouncementQueue(pack, speaker, backlog=0)
    with pytest.raises(ValueError, match="repeat 9: say a call 1 to 5 times"):
        AnnouncementQueue(pack, speaker, repeat=9)


def test_aplay_plays_to_the_null_device(pack: VoicePack) -> None:
    speaker = CommandSpeaker(player_command("aplay", "null"))
    speaker.play(render_announcement(pack, "A012", "3", repeat=1), "A012 → 3")


def test_a_failing_player_raises_speaker_error_with_its_reason(pack: VoicePack) -> None:
    speaker = CommandSpeaker(player_command("aplay", "no_such_device"))
    with pytest.raises(SpeakerError, match=r"aplay failed \(1\): .*Unknown PCM no_such_device"):
        speaker.play(pack.clip("qing"), "qing")
    with pytest.raises(SpeakerError, match="not-a-player not found"):
        CommandSpeaker(["not-a-player"]).play(pack.clip("qing"), "qing")


def test_choose_speaker_by_argument_then_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOBBY_SPEAKER", raising=False)
    monkeypatch.delenv("LOBBY_SPEAKER_DEVICE", raising=False)
    assert isinstance(choose_speaker("sim"), RecordingSpeaker)
    aplay = choose_speaker("aplay", "null")
    assert isinstance(aplay, CommandSpeaker) and aplay.command == ["aplay", "-q", "-D", "null", "-"]
    assert isinstance(choose_speaker(), CommandSpeaker)
    monkeypatch.setenv("LOBBY_SPEAKER", "sim")
    assert isinstance(choose_speaker(), RecordingSpeaker)
    assert isinstance(choose_speaker("aplay"), CommandSpeaker)
    with pytest.raises(SpeakerChoiceError, match="speaker 'loud'"):
        choose_speaker("loud")
