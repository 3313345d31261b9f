"""Voice packs: a folder of WAV clips named by key, described by a ``pack.toml`` manifest.

The default pack is generated with espeak-ng (see ``build_pack``); a hall may drop in
its own recordings as a second pack that overrides the default key by key.
"""

from __future__ import annotations

import json
import logging
import string
import tomllib
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from voice.audio import Audio, read_wav, resample
from voice.errors import PackError, PackMissingError
from voice.kiosk_words import KIOSK_KEYS

log = logging.getLogger(__name__)

MANIFEST = "pack.toml"
PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PACK_DIR = PROJECT_ROOT / "voicepacks" / "generated" / "default"

LETTERS = string.ascii_uppercase
CORE_KEYS: tuple[str, ...] = (
    "chime",
    "qing",
    *(f"letter_{c}" for c in LETTERS),
    *(f"digit_{d}" for d in range(10)),
    "num_shi",
    "hao_dao",
    "hao_chuangkou_banli",
)
ENGLISH_KEYS: tuple[str, ...] = (
    "en_number",
    "en_please_go_to_window",
    *(f"en_letter_{c}" for c in LETTERS),
    *(f"en_digit_{d}" for d in range(10)),
    *(f"en_num_{n}" for n in range(10, 20)),
    *(f"en_num_{n}" for n in range(20, 100, 10)),
)
ALL_KEYS: tuple[str, ...] = CORE_KEYS + ENGLISH_KEYS + KIOSK_KEYS


class PackManifest(BaseModel):
    """The contents of ``pack.toml``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, description="shown in logs, e.g. 'default' or 'xuhui-2024'")
    languages: list[str] = Field(min_length=1, description="e.g. ['cmn', 'en']")
    sample_rate: int = Field(ge=8000, le=48000, description="rate of every clip, in Hz")
    clips: list[str] = Field(description="clip keys; each is the file <key>.wav")
    generator: str | None = Field(default=None, description="what made the clips, if generated")


class VoicePack:
    """Clips by key, all mono 16-bit at one sample rate, loaded and checked up front."""

    def __init__(self, name: str, sample_rate: int, clips: Mapping[str, Audio]) -> None:
        self.name = name
        self.sample_rate = sample_rate
        self._clips = {key: resample(audio, sample_rate) for key, audio in clips.items()}

    def __repr__(self) -> str:
        return f"VoicePack({self.name!r}, {len(self._clips)} clips, {self.sample_rate} Hz)"

    @property
    def keys(self) -> frozenset[str]:
        """Every clip key this pack can say."""
        return frozenset(self._clips)

    def clip(self, key: str) -> Audio:
        """The clip for ``key``; a clear error if the pack lacks it."""
        try:
            return self._clips[key]
        except KeyError:
            raise PackError(f"voice pack {self.name!r} has no clip {key!r}") from None

    def over(self, base: VoicePack) -> VoicePack:
        """This pack's clips, with ``base`` filling the keys it lacks (warned once)."""
        missing = sorted(base.keys - self.keys, key=ALL_KEYS.index)
        if missing:
            log.warning(
                "voice pack %s lacks %d clips, using %s for them: %s",
                self.name,
                len(missing),
                base.name,
                " ".join(missing),
            )
        merged = {key: base.clip(key) for key in missing}
        merged.update(self._clips)
        return VoicePack(f"{self.name}+{base.name}", base.sample_rate, merged)


def read_manifest(directory: Path) -> PackManifest:
    """Parse and check ``directory/pack.toml``."""
    path = directory / MANIFEST
    if not path.is_file():
        raise PackMissingError(f"{path}: no voice pack manifest here")
    try:
        manifest = PackManifest.model_validate(tomllib.loads(path.read_text("utf-8")))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PackError(f"{path}: not valid TOML ({exc})") from exc
    except ValidationError as exc:
        raise PackError(f"{path}: {exc}") from exc
    unknown = [key for key in manifest.clips if key not in ALL_KEYS]
    if unknown:
        raise PackError(
            f"{path}: unknown clip keys {unknown}; see voicepacks/README.md for the keys"
        )
    return manifest


def write_manifest(directory: Path, manifest: PackManifest) -> None:
    """Write ``pack.toml`` (TOML basic strings are JSON strings)."""
    lines = [
        f"name = {json.dumps(manifest.name, ensure_ascii=False)}",
        f"languages = {json.dumps(manifest.languages)}",
        f"sample_rate = {manifest.sample_rate}",
    ]
    if manifest.generator is not None:
        lines.append(f"generator = {json.dumps(manifest.generator, ensure_ascii=False)}")
    lines.append("clips = [")
    lines += [f'    "{key}",' for key in manifest.clips]
    lines.append("]")
    (directory / MANIFEST).write_text("\n".join(lines) + "\n", "utf-8")


def load_pack(directory: Path) -> VoicePack:
    """Load every clip the manifest lists; errors name the file at fault."""
    manifest = read_manifest(directory)
    absent = [key for key in manifest.clips if not (directory / f"{key}.wav").is_file()]
    if absent:
        names = ", ".join(f"{key}.wav" for key in absent)
        raise PackError(f"{directory}: pack.toml lists clips with no file: {names}")
    clips = {key: read_wav(directory / f"{key}.wav") for key in manifest.clips}
    resampled = sorted(key for key, audio in clips.items() if audio.rate != manifest.sample_rate)
    if resampled:
        log.info(
            "voice pack %s: resampling %d clips to %d Hz: %s",
            manifest.name,
            len(resampled),
            manifest.sample_rate,
            " ".join(resampled),
        )
    return VoicePack(manifest.name, manifest.sample_rate, clips)


def is_complete(directory: Path) -> bool:
    """Whether ``directory`` holds a pack with every clip key, e.g. a built default pack."""
    try:
        manifest = read_manifest(directory)
    except PackError:
        return False
    listed = set(manifest.clips)
    return listed >= set(ALL_KEYS) and all((directory / f"{k}.wav").is_file() for k in listed)
