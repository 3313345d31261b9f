"""The kiosk's spoken prompts: which steps speak, the clips in order, numbers over their whole
range, a hall's recorded clips replacing the default ones, volume, and a missing clip."""

from __future__ import annotations

import asyncio
import logging
import math
from array import array
from datetime import timedelta
from pathlib import Path

import pytest

from kiosk.events import (
    Answered,
    Back,
    CardFailed,
    CardRead,
    Effect,
    HelpRequested,
    Phase,
    Printed,
    PrinterChecked,
    PrintFailed,
    ServicePicked,
    Speak,
    SpeakRequested,
    Tick,
)
from kiosk.prompts import spoken_number, ticket_number
from kiosk.samples import (
    ELDER,
    RESIDENT,
    SAMPLE_NOW,
    elder_lookup,
    issue_reply,
    issued,
    lookup_reply,
    picked,
    ready_flow,
    swiped,
)
from kiosk.voice import KioskVoice, render_prompt
from protocol.messages import PrinterHealth
from voice.audio import Audio, peak, write_wav
from voice.default_pack import ensure_default_pack, open_voice
from voice.kiosk_words import KIOSK_KEYS, KIOSK_TEXTS
from voice.pack import ALL_KEYS, VoicePack, load_pack
from voice.speaker import RecordingSpeaker

NOW = SAMPLE_NOW
DIGITS = {f"digit_{d}": d for d in range(10)} | {"num_liang": 2}


def spoken(effects: list[Effect]) -> list[Speak]:
    return [e for e in effects if isinstance(e, Speak)]


def heard(number: tuple[str, ...]) -> int:
    """Read clip keys back as Mandarin counts them (the test's own reading, not the code's)."""
    if "num_bai" not in number and "num_shi" not in number:
        return int("".join(str(DIGITS[k]) for k in number))
    total, digit = 0, None
    for key in number:
        if key == "num_bai":
            total += 100 * (digit if digit is not None else 1)
            digit = None
        elif key == "num_shi":
            total += 10 * (digit if digit is not None else 1)
            digit = None
        elif key == "digit_0":
            digit = None  # 零 only marks a skipped place
        else:
            digit = DIGITS[key]
    return total + (digit or 0)


# ---------------------------------------------------------------- numbers
def test_every_count_up_to_1500_is_said_as_it_is_read() -> None:
    for n in range(1501):
        keys = spoken_number(n)
        assert set(keys) <= set(ALL_KEYS), (n, keys)
        assert heard(keys) == n, (n, keys)


@pytest.mark.parametrize(("n", "keys"), [
    (0, ("digit_0",)), (2, ("num_liang",)), (10, ("num_shi",)), (12, ("num_shi", "digit_2")),
    (20, ("digit_2", "num_shi")), (22, ("digit_2", "num_shi", "digit_2")),
    (105, ("digit_1", "num_bai", "digit_0", "digit_5")),
    (112, ("digit_1", "num_bai", "digit_1", "num_shi", "digit_2")),
    (200, ("num_liang", "num_bai")), (1234, ("digit_1", "digit_2", "digit_3", "digit_4"))])
def test_counts_are_said_the_natural_way(n: int, keys: tuple[str, ...]) -> None:
    assert spoken_number(n) == keys


def test_ticket_numbers_are_read_character_by_character() -> None:
    assert ticket_number("A013") == ("letter_A", "digit_0", "digit_1", "digit_3")
    with pytest.raises(ValueError, match="'-'"):
        ticket_number("A-13")


# ---------------------------------------------------------------- which steps speak
def test_a_resident_hears_each_step_in_order() -> None:
    flow = ready_flow()
    said = spoken(flow.step(CardRead(ELDER), NOW))
    assert flow.phase is Phase.READING and said == []  # a moment only: nothing said
    assert flow.session is not None
    said += spoken(flow.step(Answered(lookup_reply(flow.session.lookup_id, elder_lookup())), NOW))
    said += spoken(flow.step(ServicePicked("A"), NOW))
    said += spoken(flow.step(PrinterChecked(PrinterHealth.OK), NOW))
    assert flow.phase is Phase.CONFIRMING and flow.session.issue is not None
    said += spoken(flow.step(Answered(issue_reply(flow.session.issue.id)), NOW))
    assert flow.session.ticket is not None
    said += spoken(flow.step(Printed(flow.session.ticket.ticket), NOW))
    assert [p.words for p in said] == [
        (("kiosk_choose",), ("kiosk_green",), ("kiosk_appointment",)),
        (("kiosk_printing",),),
        (("kiosk_take_ticket",), ("kiosk_your_number", "letter_A", "digit_0", "digit_1",
                                  "digit_3"),
         ("kiosk_ahead", "digit_5", "kiosk_people"),
         ("kiosk_wait_about", "num_shi", "digit_2", "kiosk_minutes"), ("kiosk_listen",))]


def test_each_screen_a_resident_reaches_speaks_once_on_arrival() -> None:
    flow = ready_flow()
    flow.step(CardRead(RESIDENT), NOW)
    assert flow.session is not None
    assert [p.clips for p in spoken(flow.step(Answered(lookup_reply(flow.session.lookup_id)),
                                              NOW))] == [("kiosk_choose",)]
    assert spoken(flow.step(Tick(), NOW)) == []  # not again while it stays
    flow.step(PrinterChecked(PrinterHealth.OK), NOW)
    assert spoken(flow.step(Back(), NOW)) == [Speak("idle", (("kiosk_swipe",),))]
    assert [p.clips for p in spoken(flow.step(HelpRequested(), NOW))] == [("kiosk_help",)]


@pytest.mark.parametrize(("ahead", "wait", "expected"), [
    (0, 0.0, (("kiosk_nobody_ahead",), ("kiosk_wait_under_minute",), ("kiosk_listen",))),
    (0, 3.2, (("kiosk_nobody_ahead",), ("kiosk_wait_about", "digit_3", "kiosk_minutes"),
              ("kiosk_listen",))),
    (1, 0.4, (("kiosk_ahead", "digit_1", "kiosk_people"), ("kiosk_wait_under_minute",),
              ("kiosk_listen",))),
    (2, 2.4, (("kiosk_ahead", "num_liang", "kiosk_people"),
              ("kiosk_wait_about", "num_liang", "kiosk_minutes"), ("kiosk_listen",))),
    (3, None, (("kiosk_ahead", "digit_3", "kiosk_people"), ("kiosk_wait_unknown",),
               ("kiosk_listen",))),
    (0, None, (("kiosk_nobody_ahead",), ("kiosk_wait_unknown",), ("kiosk_listen",))),
    (120, 245.6, (("kiosk_ahead", "digit_1", "num_bai", "digit_2", "num_shi", "kiosk_people"),
                  ("kiosk_wait_about", "num_liang", "num_bai", "digit_4", "num_shi", "digit_6",
                   "kiosk_minutes"), ("kiosk_listen",)))])
def test_the_ticket_prompt_says_the_printed_ahead_and_wait(
        ahead: int, wait: float | None, expected: tuple[tuple[str, ...], ...]) -> None:
    flow = issued(picked(swiped(ready_flow())), number="B107", ahead=ahead, wait=wait)
    assert flow.session is not None and flow.session.ticket is not None
    (prompt,) = spoken(flow.step(Printed(flow.session.ticket.ticket), NOW))
    assert prompt.words[:2] == (("kiosk_take_ticket",), ("kiosk_your_number", "letter_B",
                                                          "digit_1", "digit_0", "digit_7"))
    assert prompt.words[2:] == expected


def test_problems_are_spoken_to_the_resident_they_stop() -> None:
    flow = ready_flow()
    (unreadable,) = spoken(flow.step(CardFailed("bad read"), NOW))
    assert unreadable.clips == ("kiosk_card_unreadable",)
    (again,) = spoken(flow.step(CardFailed("bad read"), NOW))  # a second try fails too
    assert again.clips == ("kiosk_card_unreadable",)
    flow = issued(picked(swiped(ready_flow())))
    assert flow.session is not None and flow.session.ticket is not None
    (stopped,) = spoken(flow.step(PrintFailed(flow.session.ticket.ticket, PrinterHealth.PAPER_OUT,
                                              "out of paper"), NOW))
    assert flow.phase is Phase.OUT_OF_SERVICE
    assert stopped.clips == ("kiosk_fault_paper_out", "kiosk_ticket_voided",
                             "kiosk_out_of_service")


def test_screens_nobody_is_at_are_not_spoken_until_touched() -> None:
    flow = ready_flow()
    assert spoken(flow.step(PrinterChecked(PrinterHealth.PAPER_OUT), NOW)) == []
    assert flow.phase is Phase.OUT_OF_SERVICE
    (touched,) = spoken(flow.step(SpeakRequested(), NOW))
    assert touched.clips == ("kiosk_fault_paper_out", "kiosk_out_of_service")
    flow = issued(picked(swiped(ready_flow())))
    assert flow.session is not None and flow.session.ticket is not None
    flow.step(Printed(flow.session.ticket.ticket), NOW)
    later = NOW + timedelta(seconds=flow.settings.done_s + 1)
    assert spoken(flow.step(Tick(), later)) == []  # the resident has gone with the ticket
    assert flow.phase is Phase.IDLE
    assert spoken(flow.step(SpeakRequested(), later)) == [Speak("idle", (("kiosk_swipe",),))]


def test_every_prompt_clip_is_a_pack_key() -> None:
    assert set(KIOSK_KEYS) <= set(ALL_KEYS)
    for notice_stem in ("card_unreadable", "card_invalid", "closed_not_yet", "closed_ended",
                        "closed_today", "closed_paused", "quota_exhausted", "already_holds",
                        "no_appointment", "outside_window", "no_answer", "cannot_print",
                        "refused"):
        assert f"kiosk_{notice_stem}" in KIOSK_TEXTS, notice_stem


# ---------------------------------------------------------------- the sound
@pytest.fixture(scope="module")
def default_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_default_pack(tmp_path_factory.mktemp("voice") / "default")


def tone(seconds: float, rate: int = 22050, freq: float = 220.0) -> Audio:
    count = round(seconds * rate)
    return Audio(array("h", (round(9000 * math.sin(2 * math.pi * freq * i / rate))
                             for i in range(count))), rate)


def test_the_default_pack_speaks_every_kiosk_clip(default_dir: Path) -> None:
    pack = load_pack(default_dir)
    for key, words in KIOSK_TEXTS.items():
        clip = pack.clip(key)
        assert 0.15 < clip.duration < 0.5 + 0.35 * len(words), (key, clip.duration)
        assert peak(clip) > 0.3, key


def test_a_dropped_in_recording_replaces_the_clip_of_its_name(
        default_dir: Path, tmp_path: Path) -> None:
    hall = tmp_path / "shanghainese"
    hall.mkdir()
    recording = tone(0.8)
    write_wav(recording, hall / "kiosk_printing.wav")
    (hall / "pack.toml").write_text('name = "xuhui-hu"\nlanguages = ["wuu"]\n'
                                    'sample_rate = 22050\nclips = ["kiosk_printing"]\n')
    pack = open_voice(hall, default_dir)
    default = load_pack(default_dir)
    printing = render_prompt(pack, Speak("printing", (("kiosk_printing",),)))
    assert printing is not None and printing.samples == recording.samples
    swipe = render_prompt(pack, Speak("idle", (("kiosk_swipe",),)))
    assert swipe is not None and swipe.samples == default.clip("kiosk_swipe").samples


async def test_the_voice_plays_prompts_in_order_at_its_volume(default_dir: Path) -> None:
    pack, speaker = load_pack(default_dir), RecordingSpeaker()
    voice = KioskVoice(pack, speaker, volume=0.5)
    task = asyncio.create_task(voice.run())
    try:
        voice.say(Speak("printing", (("kiosk_printing",),)))
        await voice.join()
        voice.say(Speak("help", (("kiosk_help",),)))
        await voice.join()
    finally:
        task.cancel()
    assert speaker.titles == ["printing: kiosk_printing", "help: kiosk_help"]
    full = pack.clip("kiosk_printing")
    assert speaker.played[0].audio.samples == array(
        "h", (round(s * 0.5) for s in full.samples))


async def test_a_missing_clip_is_logged_and_left_out(
        default_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    full = load_pack(default_dir)
    pack = VoicePack("partial", full.sample_rate,
                     {key: full.clip(key) for key in full.keys if key != "kiosk_people"})
    speaker = RecordingSpeaker()
    voice = KioskVoice(pack, speaker)
    task = asyncio.create_task(voice.run())
    prompt = Speak("done A013", (("kiosk_ahead", "digit_5", "kiosk_people"),))
    try:
        with caplog.at_level(logging.WARNING, logger="kiosk.voice"):
            voice.say(prompt)
            await voice.join()
    finally:
        task.cancel()
    assert "has no clip 'kiosk_people'" in caplog.text
    expected = render_prompt(pack, Speak("x", (("kiosk_ahead", "digit_5"),)))
    assert expected is not None and speaker.played[0].audio.samples == expected.samples
