"""Alerts for the hall manager: long waits and long services (each against its service's own
target), counters paused too long or open without a clerk
while residents wait for them, devices offline (for longer than [rules] offline_grace_s: a
device reconnecting, say after a broker restart, is no incident), printer trouble and bad
ratings. Each is raised once and cleared when its cause ends."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from hall.engine.engine import HallEngine
from hall.engine.model import LANES, Desk
from hall.engine.projection import staffed
from hall.wording import Wording
from protocol import messages as m


@dataclass
class AlertBoard:
    """The set of active alerts, keyed by (kind, subject)."""

    active: dict[tuple[m.AlertKind, str], m.Alert] = field(default_factory=dict)
    recent: list[m.Alert] = field(default_factory=list)
    handled: set[tuple[m.AlertKind, str]] = field(default_factory=set)  # followed up, cause lasts
    offline: dict[str, tuple[m.Role, datetime]] = field(default_factory=dict)  # role, since
    wording: Wording = field(default_factory=Wording)

    def raise_(self, kind: m.AlertKind, subject: str, message: str,
               now: datetime) -> m.Alert | None:
        """Record an alert; returns it if it is new (so it gets announced)."""
        key = (kind, subject)
        if key in self.active or key in self.handled:
            return None
        alert = m.Alert(kind=kind, subject=subject, message=message, at=now)
        self.active[key] = alert
        self.recent.insert(0, alert)
        del self.recent[50:]
        return alert

    def clear(self, kind: m.AlertKind, subject: str) -> None:
        """The cause has ended: a new occurrence will alert again."""
        self.active.pop((kind, subject), None)
        self.handled.discard((kind, subject))

    def followed_up(self, kind: m.AlertKind, subject: str) -> None:
        """The manager dealt with it: off the board, and quiet while its cause lasts."""
        self.active.pop((kind, subject), None)
        self.handled.add((kind, subject))

    def rebuild(self, engine: HallEngine, now: datetime) -> None:
        """After a restart: bad ratings not yet followed up are on the board again."""
        for ticket, counter, clerk, rating, _at in engine.ratings:
            self.rating(counter, ticket, rating, now, clerk)
        for kind, subject in engine.followed_up:
            self.followed_up(m.AlertKind(kind), subject)

    def check_hall(self, engine: HallEngine, now: datetime) -> list[m.Alert]:
        """Raise or clear the alerts that depend on time passing."""
        t = now.timestamp()
        rules = engine.config.rules
        new: list[m.Alert | None] = []
        for service, queue in engine.queues.items():
            heads = (queue.head(lane) for lane in LANES)  # a lane's head has waited longest
            longest = max((t - h.queued_at for h in heads if h is not None), default=0.0) / 60
            target = engine.config.wait_target(service)
            if longest > target:
                new.append(self.raise_(m.AlertKind.LONG_WAIT, service,
                                       self.wording.long_wait(service, longest, target), now))
            else:
                self.clear(m.AlertKind.LONG_WAIT, service)
        for desk in engine.desks.values():
            paused = (t - (desk.since or t)) / 60
            if desk.status is m.CounterStatus.PAUSED and paused > rules.pause_alert_min:
                new.append(self.raise_(
                    m.AlertKind.PAUSED_TOO_LONG, desk.counter_id,
                    self.wording.paused(desk.counter_id, desk.clerk, paused), now))
            else:
                self.clear(m.AlertKind.PAUSED_TOO_LONG, desk.counter_id)
            new.append(self._no_clerk(engine, desk, now))
            new.append(self._long_service(engine, desk, now))
        new.extend(self._gone(rules.offline_grace_s, now))
        return [a for a in new if a is not None]

    def _gone(self, grace_s: float, now: datetime) -> list[m.Alert | None]:
        """Devices offline for longer than the grace period."""
        return [self.raise_(m.AlertKind.DEVICE_OFFLINE, device,
                            self.wording.offline(device, role, since), now)
                for device, (role, since) in self.offline.items()
                if (now - since).total_seconds() >= grace_s]

    def _no_clerk(self, engine: HallEngine, desk: Desk, now: datetime) -> m.Alert | None:
        """A window open but unable to call (no clerk signed in) while residents wait for it."""
        waiting = 0
        if desk.status is m.CounterStatus.OPEN and not staffed(engine, desk):
            waiting = len(engine.reserved_lanes[desk.counter_id]) + sum(
                q.waiting for s, q in engine.queues.items() if desk.serves(s))
        if not waiting:
            self.clear(m.AlertKind.NO_CLERK, desk.counter_id)
            return None
        return self.raise_(m.AlertKind.NO_CLERK, desk.counter_id,
                           self.wording.no_clerk(desk.counter_id, waiting), now)

    def _long_service(self, engine: HallEngine, desk: Desk, now: datetime) -> m.Alert | None:
        """The ticket in hand at a window (called or serving) there longer than its service's
        target; cleared once it ends or the window has another ticket within target."""
        ticket = desk.ticket
        called = ticket.called_at if ticket is not None else None
        minutes = 0.0 if called is None else (now.timestamp() - called) / 60
        target = engine.config.service_target(ticket.service) if ticket is not None else 0.0
        if ticket is None or minutes <= target:
            self.clear(m.AlertKind.LONG_SERVICE, desk.counter_id)
            return None
        return self.raise_(m.AlertKind.LONG_SERVICE, desk.counter_id, self.wording.long_service(
            desk.counter_id, desk.clerk, ticket.number, minutes, target), now)

    def presence(self, device: str, presence: m.Presence | None, now: datetime) -> None:
        """A device's presence: offline starts its grace period (``check_hall`` raises the
        alert once it has passed); anything else ends it and clears the alert."""
        if presence is not None and presence.state == m.PresenceState.OFFLINE:
            self.offline.setdefault(device, (presence.role, now))
            return
        self.offline.pop(device, None)
        self.clear(m.AlertKind.DEVICE_OFFLINE, device)

    def health(self, device: str, health: m.DeviceHealth | None, now: datetime) -> m.Alert | None:
        if health is not None and not health.ok:
            return self.raise_(m.AlertKind.PRINTER, device,
                               self.wording.printer(device, health), now)
        self.clear(m.AlertKind.PRINTER, device)
        return None

    def help_requested(self, device: str, now: datetime) -> m.Alert:
        """Always announced: each press is a resident waiting at the kiosk."""
        self.clear(m.AlertKind.HELP_REQUESTED, device)
        alert = self.raise_(m.AlertKind.HELP_REQUESTED, device, self.wording.help(device), now)
        assert alert is not None
        return alert

    def rating(self, counter: str, ticket: str, rating: int, now: datetime,
               clerk: str | None = None) -> m.Alert | None:
        if rating > m.Rating.DISSATISFIED:
            return None
        return self.raise_(m.AlertKind.BAD_RATING, f"{counter}:{ticket}", self.wording.bad_rating(
            counter, clerk, ticket.split("-")[-1], rating), now)
