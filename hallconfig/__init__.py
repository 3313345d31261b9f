"""The hall's TOML configuration, validated with errors that name the bad key."""

from __future__ import annotations

import hashlib
import hmac
import os
from datetime import date, time
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from protocol.device import load_toml_model
from protocol.link import BrokerSettings
from protocol.messages import Role
from protocol.topics import check_id

HHMM = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="local time HH:MM")]
MAX_NEARBY = 6  # nearby centres a hall may list in [city] nearby
DEFAULT_MEAN_MINUTES = 8.0
SERVICE_TARGET_FACTOR = 3.0  # a service's default service-time target, in mean_minutes
MINUTES_A_DAY = 24 * 60


def known_zone(value: str) -> str:
    """``value`` when it names an IANA time zone this machine knows, else a ValueError."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc
    return value


TimeZoneName = Annotated[str, AfterValidator(known_zone)]
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class HallInfo(Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,40}$", description="hall id, used in MQTT topics")
    name: str = Field(min_length=1, description="name in Chinese")
    name_en: str = Field(min_length=1, description="name in English")
    timezone: TimeZoneName = Field("Asia/Shanghai",
                                   description="IANA time zone of the hall's clock")
    status_url_base: str = Field("http://127.0.0.1:8080/t/",
                                 description="prefix of the resident's status page URL")
    secret_file: str | None = Field(None, description="file holding the hall secret (HMAC key)")


class Hours(Strict):
    """Opening hours per weekday; a missing day or an empty list means closed."""

    monday: list[HHMM] = ["08:30", "16:30"]
    tuesday: list[HHMM] = ["08:30", "16:30"]
    wednesday: list[HHMM] = ["08:30", "16:30"]
    thursday: list[HHMM] = ["08:30", "16:30"]
    friday: list[HHMM] = ["08:30", "16:30"]
    saturday: list[HHMM] = ["08:30", "11:30"]
    sunday: list[HHMM] = ["08:30", "11:30"]
    holidays: list[date] = Field([], description="days that keep weekend hours")
    holiday_hours: list[HHMM] = ["08:30", "11:30"]

    @model_validator(mode="after")
    def _pairs(self) -> Hours:
        for day in (*WEEKDAYS, "holiday_hours"):
            span = getattr(self, day)
            if span and (len(span) != 2 or span[0] >= span[1]):
                raise ValueError(f"hours.{day} must be [open, close] with open before close")
        return self

    def for_day(self, day: date) -> tuple[time, time] | None:
        weekday = WEEKDAYS[day.weekday()]
        span = self.holiday_hours if day in self.holidays else getattr(self, weekday)
        if not span:
            return None
        return time.fromisoformat(span[0]), time.fromisoformat(span[1])


class Rules(Strict):
    green_age: int = Field(70, ge=50, le=100, description="green channel from this age")
    recall_limit: int = Field(2, ge=0, le=5, description="recalls allowed per call (重呼)")
    appointment_early_min: int = Field(30, ge=0, le=240, description="check-in opens")
    appointment_late_min: int = Field(15, ge=0, le=240, description="check-in closes")
    pending_print_s: int = Field(60, ge=5, le=600, description="void if unprinted")
    wait_target_min: float = Field(20, gt=0, description="the hall's wait target: the policy's "
                                   "T, and each service's unless it sets its own")
    pause_alert_min: float = Field(30, gt=0, description="alert when a counter is paused this long")
    policy: str = Field("default", description="call-next policy: default or fifo")
    close_idle_min: float = Field(30, gt=0, le=720, description="after closing time, the day "
                                  "closes itself once no counter has served for this long")
    close_grace_min: float = Field(120, ge=0, le=720, description="the day closes itself at "
                                   "the latest this long after closing time, whatever is open")
    sign_in_required: bool = Field(True, description="a counter calls only with a clerk signed in")
    idle_window_min: float = Field(
        10, gt=0, description="a window idle this long while its residents wait is left out "
                              "of the wait estimates")
    offline_grace_s: float = Field(60, ge=0, le=3600, description="a device offline this long "
                                   "raises device_offline (one reconnecting is no incident)")


class Service(Strict):
    id: str = Field(pattern=r"^[A-Z]$", description="service id and ticket prefix letter")
    name: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    daily_quota: int | None = Field(None, ge=1, le=9999, description="tickets per day (限号)")
    last_ticket: HHMM | None = Field(None, description="no tickets after this local time")
    mean_minutes: float = Field(DEFAULT_MEAN_MINUTES, gt=0, le=240,
                                description="planning service time")
    wait_target_min: float | None = Field(None, gt=0, le=720, description="this service's wait "
                                          "target (default: [rules] wait_target_min)")
    service_target_min: float | None = Field(None, gt=0, le=720, description="this service's "
                                             "time-at-the-window target (default: "
                                             f"{SERVICE_TARGET_FACTOR:g} × mean_minutes)")
    appointment_slot_min: int = Field(30, ge=5, le=240, description="length of this "
                                      "service's appointment slots, from midnight; it must "
                                      "divide a day (e.g. 15, 20, 30, 60)")
    appointment_capacity: int | None = Field(None, ge=1, le=999, description="bookings one "
                                             "slot takes (default: no limit)")

    @field_validator("appointment_slot_min")
    @classmethod
    def _divides_a_day(cls, value: int) -> int:
        if MINUTES_A_DAY % value:
            raise ValueError(f"{value} minutes does not divide a day ({MINUTES_A_DAY} minutes) "
                             "into whole slots: use e.g. 15, 20, 30 or 60")
        return value


class Counter(Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,40}$")
    name: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    services: list[str] = Field(min_length=1, description='service ids, or ["*"] for all')


class Clerk(Strict):
    staff_no: str = Field(pattern=r"^[A-Za-z0-9-]{1,20}$")
    name: str = Field(min_length=1)
    pin_hash: str = Field(description="pbkdf2_sha256$ITER$SALT$HASH, made by hash_pin")
    card_hash: str | None = Field(None, pattern=r"^[0-9a-f]{64}$",
                                  description="the staff card, made by staff_card_hash")


class Device(Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,40}$")
    role: Literal[Role.KIOSK, Role.CALLER, Role.DISPLAY, Role.MANAGER, Role.UPSTREAM]
    counter: str | None = Field(None, description="the counter a caller or counter display serves")


ORIGIN = r"^https?://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$"
_WILDCARD_HOSTS = ("", "0.0.0.0", "::")


class TlsFiles(Strict):
    """A listener's certificate chain and key (PEM): HTTPS when given, plain HTTP when not."""

    tls_cert: str | None = Field(None, description="certificate chain, e.g. /etc/lobby/tls/web.crt")
    tls_key: str | None = Field(None, description="its private key, e.g. /etc/lobby/tls/web.key")

    @model_validator(mode="after")
    def _both(self) -> TlsFiles:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key: give both (HTTPS) or neither (plain HTTP)")
        return self


class WebSettings(TlsFiles):
    """The manager's web app: serve it on the office network, never the guest Wi-Fi. It runs
    as its own service (python -m web), a device of the hall with a broker account of its
    own."""

    host: str = "127.0.0.1"
    port: int = Field(8090, ge=1, le=65535)
    origins: list[Annotated[str, Field(pattern=ORIGIN)]] = Field(
        [], description="addresses the tablet opens the app at, e.g. http://lobby-hall.local:8090"
                        " (writes from any other origin are refused)")
    max_streams: int = Field(50, ge=1, description="live tablet pages open at once, in all "
                                                   "(more get 429)")
    max_streams_per_address: int = Field(10, ge=1, description="of those, from one address")
    device: str = Field("web", description="the web service's device id: a [[devices]] entry "
                                           "with role manager, and its broker account")
    broker_password_file: str | None = Field(
        None, description="file holding that account's password; without it, the systemd "
                          "credential broker-password of the web service's unit")
    state_dir: str | None = Field(
        None, description="where the web service keeps its report cache; default "
                          "$STATE_DIRECTORY (systemd), else web-state beside the journal")
    soft_callers_file: str | None = Field(
        None, description="absolute path of a TOML file {device = \"password\"}: the broker "
                          "passwords of the soft callers (caller devices) the clerk's screen "
                          "/window/<counter> acts as; without it, the systemd credential "
                          "soft-callers of the web service's unit, else no clerk's screen")

    @field_validator("soft_callers_file")
    @classmethod
    def _absolute(cls, value: str | None) -> str | None:
        if value is not None and not Path(value).is_absolute():
            raise ValueError(f"soft_callers_file {value!r}: give an absolute path")
        return value
    notifier: Literal["none", "record"] = Field(
        "none", description="the residents' notices at 3 ahead and when called (web/notify.py):"
                            " none, or record (a stub that writes what would be sent to "
                            "notices.jsonl in state_dir); the city tier plugs in SMS or WeChat")


class StatusPageSettings(TlsFiles):
    """The residents' status page behind the ticket's QR code, on a listener of its own."""

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    max_streams: int = Field(2000, ge=1, description="status pages following their ticket "
                                                     "at once, in all (more get 429)")
    max_streams_per_address: int = Field(
        20, ge=1, description="of those, from one client address (raise it if the guest "
                              "Wi-Fi reaches the hall through NAT)")


class City(Strict):
    """The hall's place in the city tier (全市通办): the centres its kiosks show nearby."""

    nearby: list[str] = Field([], max_length=MAX_NEARBY,
                              description="hall ids of the nearest centres")

    @field_validator("nearby")
    @classmethod
    def _hall_ids(cls, value: list[str]) -> list[str]:
        for i, hall in enumerate(value):
            if check_id(hall, "hall id") in value[:i]:
                raise ValueError(f"hall id {hall!r} appears twice")
        return value


class HallConfig(Strict):
    hall: HallInfo
    hours: Hours = Hours()
    rules: Rules = Rules()
    services: list[Service] = Field(min_length=1)
    counters: list[Counter] = Field(min_length=1)
    clerks: list[Clerk] = []
    devices: list[Device] = []
    broker: BrokerSettings = BrokerSettings()
    web: WebSettings = WebSettings()
    status_page: StatusPageSettings = StatusPageSettings()
    city: City = City()
    journal: str = Field("hall-journal.sqlite3", description="SQLite journal path")
    backup_keep_days: int = Field(
        14, ge=1, le=366, description="days of hourly and daily journal backups kept beside it")

    @model_validator(mode="after")
    def _cross_refs(self) -> HallConfig:
        service_ids = [s.id for s in self.services]
        unique_ids("services", service_ids)
        counter_ids = [c.id for c in self.counters]
        unique_ids("counters", counter_ids)
        unique_ids("devices", [d.id for d in self.devices])
        unique_ids("clerks", [c.staff_no for c in self.clerks])
        hosts = {self.web.host, self.status_page.host}
        if self.web.port == self.status_page.port and (len(hosts) == 1
                                                       or hosts & set(_WILDCARD_HOSTS)):
            raise ValueError("status_page.port: the status page needs a listener of its own, "
                             "not the manager's web app's")
        if self.hall.id in self.city.nearby:
            raise ValueError(f"city.nearby: {self.hall.id!r} is this hall itself")
        for i, counter in enumerate(self.counters):
            for sid in counter.services:
                if sid != "*" and sid not in service_ids:
                    raise ValueError(f"counters[{i}].services: unknown service {sid!r}")
        for i, device in enumerate(self.devices):
            if device.role == Role.CALLER and device.counter is None:
                raise ValueError(f"devices[{i}] ({device.id}): a caller needs a counter")
            if device.counter is not None and device.counter not in counter_ids:
                raise ValueError(f"devices[{i}].counter: unknown counter {device.counter!r}")
        return self

    def wait_target(self, service_id: str) -> float:
        """A service's wait target in minutes (the hall's for a service it no longer has)."""
        service = next((s for s in self.services if s.id == service_id), None)
        if service is None or service.wait_target_min is None:
            return self.rules.wait_target_min
        return service.wait_target_min

    def service_target(self, service_id: str) -> float:
        """A service's time-at-the-window target in minutes."""
        service = next((s for s in self.services if s.id == service_id), None)
        if service is None:
            return SERVICE_TARGET_FACTOR * DEFAULT_MEAN_MINUTES
        if service.service_target_min is None:
            return SERVICE_TARGET_FACTOR * service.mean_minutes
        return service.service_target_min

    def device(self, device_id: str) -> Device | None:
        return next((d for d in self.devices if d.id == device_id), None)


def unique_ids(what: str, ids: list[str]) -> None:
    """Refuse a list of ids in which one appears twice, naming it."""
    seen: set[str] = set()
    for ident in ids:
        if ident in seen:
            raise ValueError(f"{what}: id {ident!r} appears twice")
        seen.add(ident)


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the file and the bad key."""


def load_hall_config(path: str | Path) -> HallConfig:
    """Read and validate a hall TOML file, raising ConfigError that names the bad key."""
    return load_toml_model(path, HallConfig, ConfigError)


def load_secret(config: HallConfig, config_path: str | Path) -> bytes:
    """The hall secret: systemd credential ``hall-secret``, else ``hall.secret_file``."""
    cred_dir = os.environ.get("CREDENTIALS_DIRECTORY")
    if cred_dir and (Path(cred_dir) / "hall-secret").exists():
        return (Path(cred_dir) / "hall-secret").read_bytes().strip()
    if config.hall.secret_file is None:
        raise ConfigError(f"{config_path}: hall.secret_file is not set and no credential found")
    path = Path(config_path).parent / config.hall.secret_file
    try:
        secret = path.read_bytes().strip()
    except FileNotFoundError as exc:
        raise ConfigError(f"{config_path}: hall.secret_file {path} does not exist") from exc
    if len(secret) < 16:
        raise ConfigError(f"{config_path}: hall.secret_file {path} holds under 16 bytes")
    return secret


def hash_pin(pin: str, salt: bytes | None = None, iterations: int = 100_000) -> str:
    """A clerk PIN hash for the config file."""
    salt = salt or os.urandom(8)
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, iterations)
    return f"pbkdf2_sha256${iterations}${salt.hex()}${digest.hex()}"


def staff_card_hash(secret: bytes, card: str) -> str:
    """A staff card's keyed hash for the config (HMAC-SHA256 with the hall secret)."""
    return hmac.new(secret, b"staff-card:" + card.strip().encode(), hashlib.sha256).hexdigest()


def check_pin(pin: str, pin_hash: str) -> bool:
    """True if ``pin`` matches a hash made by hash_pin."""
    try:
        scheme, iterations, salt_hex, digest_hex = pin_hash.split("$")
    except ValueError:
        return False
    if scheme != "pbkdf2_sha256":
        return False
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), bytes.fromhex(salt_hex), int(iterations))
    return hmac.compare_digest(digest.hex(), digest_hex)
