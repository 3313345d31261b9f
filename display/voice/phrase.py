"""What a call sounds like: the clip keys of 请 A012 号到 3 号窗口办理, and the joined audio.

Pure logic: ``announcement_clips`` says which clips play in which order, and
``render_announcement`` joins a pack's clips with short silences into one signal.
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass

from voice.audio import Audio, join, silence
from voice.errors import UnspeakableError
from voice.pack import LETTERS, VoicePack

log = logging.getLogger(__name__)

MAX_REPEAT = 5
MAX_NUMBER_LENGTH = 8


@dataclass(frozen=True)
class Pauses:
    """Silences between clips, in seconds, tuned to sound like one voice speaking."""

    after_chime: float = 0.35
    in_number: float = 0.05
    between_words: float = 0.10
    between_languages: float = 0.45
    between_repeats: float = 0.90


PAUSES = Pauses()


@dataclass(frozen=True)
class Segment:
    """One clip of an announcement and the silence that follows it."""

    key: str
    pause_after: float


Word = list[str]


def _spell(text: str, what: str, letter: str, digit: str) -> Word:
    keys = []
    for char in text:
        if char in LETTERS:
            keys.append(f"{letter}{char}")
        elif char.isascii() and char.isdigit():
            keys.append(f"{digit}{char}")
        else:
            raise UnspeakableError(f"{what} {text!r}: no clip can say {char!r}")
    return keys


def _clean(text: str, what: str) -> str:
    cleaned = unicodedata.normalize("NFKC", text).strip().upper()
    if not cleaned:
        raise UnspeakableError(f"{what} is empty")
    if len(cleaned) > MAX_NUMBER_LENGTH:
        raise UnspeakableError(f"{what} {text!r} is longer than {MAX_NUMBER_LENGTH} characters")
    return cleaned


def window_number(window: str) -> int | None:
    """The window as a number from 1 to 99 if it is one ("3", "12", "03"), else None."""
    cleaned = unicodedata.normalize("NFKC", window).strip()
    if cleaned.isascii() and cleaned.isdigit() and 1 <= int(cleaned) <= 99:
        return int(cleaned)
    return None


def chinese_number(n: int) -> Word:
    """Clip keys saying 1-99 the natural way: 三, 十二, 二十, 二十一."""
    tens, units = divmod(n, 10)
    keys = [f"digit_{tens}"] if tens > 1 else []
    keys += ["num_shi"] if tens else []
    keys += [f"digit_{units}"] if units else []
    return keys


def english_number(n: int) -> Word:
    """Clip keys saying 1-99 in English: three, twelve, twenty, twenty one."""
    tens, units = divmod(n, 10)
    if tens == 0:
        return [f"en_digit_{units}"]
    if tens == 1:
        return [f"en_num_{n}"]
    return [f"en_num_{10 * tens}"] + ([f"en_digit_{units}"] if units else [])


def _window_words(window: str, english: bool) -> Word:
    n = window_number(window)
    if n is not None:
        return english_number(n) if english else chinese_number(n)
    log.info("window %r is not a number from 1 to 99: spelling it", window)
    letter, digit = ("en_letter_", "en_digit_") if english else ("letter_", "digit_")
    return _spell(_clean(window, "window id"), "window id", letter, digit)


def mandarin_phrase(number: str, window: str) -> list[Word]:
    """请 A012 号到 3 号窗口办理, as words of clip keys."""
    ticket = _spell(_clean(number, "ticket number"), "ticket number", "letter_", "digit_")
    return [["qing"], ticket, ["hao_dao"], _window_words(window, False), ["hao_chuangkou_banli"]]


def english_phrase(number: str, window: str) -> list[Word]:
    """Number A012, please go to window 3, as words of clip keys."""
    ticket = _spell(_clean(number, "ticket number"), "ticket number", "en_letter_", "en_digit_")
    return [["en_number"], ticket, ["en_please_go_to_window"], _window_words(window, True)]


def _segments(words: list[Word], pauses: Pauses, pause_at_end: float) -> list[Segment]:
    segments = []
    for word in words:
        segments += [Segment(key, pauses.in_number) for key in word[:-1]]
        segments.append(Segment(word[-1], pauses.between_words))
    segments[-1] = Segment(segments[-1].key, pause_at_end)
    return segments


def announcement_plan(
    number: str, window: str, english: bool = False, repeat: int = 2, pauses: Pauses = PAUSES
) -> list[Segment]:
    """Chime, then the phrase (Mandarin, then English if asked) ``repeat`` times."""
    if not 1 <= repeat <= MAX_REPEAT:
        raise UnspeakableError(f"repeat {repeat}: say a call 1 to {MAX_REPEAT} times")
    once = _segments(mandarin_phrase(number, window), pauses, pauses.between_repeats)
    if english:
        once[-1] = Segment(once[-1].key, pauses.between_languages)
        once += _segments(english_phrase(number, window), pauses, pauses.between_repeats)
    plan = [Segment("chime", pauses.after_chime), *(once * repeat)]
    plan[-1] = Segment(plan[-1].key, 0.0)
    return plan


def announcement_clips(
    number: str, window: str, english: bool = False, repeat: int = 2
) -> list[str]:
    """The clip keys of one announcement, in the order they play."""
    return [segment.key for segment in announcement_plan(number, window, english, repeat)]


def render_announcement(
    pack: VoicePack,
    number: str,
    window: str,
    english: bool = False,
    repeat: int = 2,
    pauses: Pauses = PAUSES,
) -> Audio:
    """One announcement as a single signal: the pack's clips joined with silences."""
    parts = []
    for segment in announcement_plan(number, window, english, repeat, pauses):
        parts.append(pack.clip(segment.key))
        if segment.pause_after > 0:
            parts.append(silence(segment.pause_after, pack.sample_rate))
    return join(parts)
