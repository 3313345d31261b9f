"""The kiosk's shell around the pure flow: the MQTT link, the card reader, the printer, time.

Everything runs on one asyncio loop (the same one Kivy runs on). The card reader blocks,
so it gets its own thread, which hands each card to the loop; the printer blocks too, so
every printer call goes through one worker thread. The raw card is turned into a
`Resident` (keyed hash + green flag) on arrival and dropped; only the hash is ever sent.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, TypeVar, TypeVarTuple

from hardware.idcard import (
    CardData,
    CardReader,
    IdCardError,
    ReaderConfigError,
    ReaderNotFound,
)
from hardware.printer import (
    PaperOut,
    PrinterError,
    PrinterOffline,
    PrinterStatus,
    PrintWriteError,
    TicketPrinter,
)
from kiosk.availability import local_time
from kiosk.events import (
    Answered,
    CardFailed,
    CardRead,
    CheckPrinter,
    Effect,
    Event,
    HallUpdated,
    LinkChanged,
    NearbyUpdated,
    NoAnswer,
    Phase,
    Printed,
    PrinterChecked,
    PrintFailed,
    PrintTicket,
    PublishHealth,
    ReaderChanged,
    Send,
    ServiceUpdated,
    Show,
    Speak,
    Tick,
)
from kiosk.flow import Flow, FlowSettings
from kiosk.identity import DEFAULT_GREEN_AGE, resident_from_card
from kiosk.ticket import printout_for
from kiosk.view import View, build_view
from kiosk.voice import KioskVoice
from protocol import messages as m
from protocol.identity import IdentityError
from protocol.link import Inbound, Link, NotConnected, RequestTimeout

log = logging.getLogger(__name__)
T = TypeVar("T")
Args = TypeVarTuple("Args")

READ_SLICE_S = 0.5
REOPEN_READER_S = 2.0
TICK_S = 0.5
_FAILURES: tuple[tuple[type[Exception], m.PrinterHealth], ...] = (
    (PaperOut, m.PrinterHealth.PAPER_OUT),
    (PrinterOffline, m.PrinterHealth.OFFLINE),
    (PrintWriteError, m.PrinterHealth.ERROR),
)


def health_of(status: PrinterStatus) -> m.PrinterHealth:
    """The protocol's name for a printer status."""
    return m.PrinterHealth(status.value)


def system_now() -> datetime:
    """Wall-clock time, aware."""
    return datetime.now().astimezone()


class KioskRuntime:
    """Runs the flow: feeds it inputs, carries out its effects, tells the screen."""

    def __init__(self, link: Link, secret: bytes, open_reader: Callable[[], CardReader],
                 printer: TicketPrinter, settings: FlowSettings | None = None, *,
                 request_timeout: float = 3.0, printer_poll_s: float = 5.0,
                 clock: Callable[[], datetime] = system_now,
                 voice: KioskVoice | None = None) -> None:
        self.link = link
        self.voice = voice
        self.flow = Flow(settings or FlowSettings())
        self.printer = printer
        self.request_timeout = request_timeout
        self.printer_poll_s = printer_poll_s
        self.clock = clock
        self._secret = secret
        self._open_reader = open_reader
        self._printer_thread = ThreadPoolExecutor(1, thread_name_prefix="printer")
        self._stopping = threading.Event()
        self._reader_thread: threading.Thread | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._stepped = asyncio.Event()
        self._view_listeners: list[Callable[[View], None]] = []
        self._view: View | None = None
        self._checking = False
        self._loop: asyncio.AbstractEventLoop | None = None

    # ------------------------------------------------------------ lifecycle
    async def start(self, connect_wait: float | None = None) -> None:
        """Start the link (not waiting for it unless asked), the reader and the timers."""
        self._loop = asyncio.get_running_loop()
        topics = self.link.topics
        self.link.follow = [topics.all_state]
        self.link.on_connection(lambda up: self.dispatch(LinkChanged(up)))
        self.link.on_message(self._on_inbound)
        await self.link.start(wait=connect_wait)
        self._reader_thread = threading.Thread(target=self._read_cards, name="card-reader",
                                               daemon=True)
        self._reader_thread.start()
        self._spawn(self._tick(), "ticker")
        self._spawn(self._poll_printer(), "printer-poll")
        if self.voice is not None:
            self._spawn(self.voice.run(), "voice")
        self.dispatch(Tick())

    async def stop(self) -> None:
        """Stop the timers, the reader and the link; say which commands went unanswered."""
        self._stopping.set()
        if self.flow.awaiting:
            log.warning("stopping with commands unanswered: %s",
                        ", ".join(f"{name} {cid}" for cid, name in self.flow.awaiting.items()))
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._reader_thread is not None:
            await asyncio.to_thread(self._reader_thread.join, 5.0)
        await self.link.close()
        self._printer_thread.shutdown(wait=True)
        self.printer.close()

    def _spawn(self, coroutine: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.get_running_loop().create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------ the flow
    def dispatch(self, event: Event) -> None:
        """Step the flow with ``event`` and carry out what it asks for."""
        now = self.clock()
        for effect in self.flow.step(event, now):
            self._carry_out(effect)
        self._stepped.set()
        view = build_view(self.flow, now)
        if view != self._view:
            self._view = view
            for listener in self._view_listeners:
                listener(view)

    def view(self) -> View:
        """The screen as it should look now."""
        return build_view(self.flow, self.clock())

    def on_view(self, listener: Callable[[View], None]) -> None:
        """Call ``listener`` (on the loop) whenever the screen should change."""
        self._view_listeners.append(listener)

    async def wait_for(self, condition: Callable[[Flow], bool], timeout: float) -> None:
        """Wait until ``condition(flow)`` holds after some step; TimeoutError otherwise."""
        try:
            async with asyncio.timeout(timeout):
                while not condition(self.flow):
                    self._stepped.clear()
                    await self._stepped.wait()
        except TimeoutError:
            notice = self.flow.notice.title if self.flow.notice else "-"
            raise TimeoutError(f"still {self.flow.phase.value} (notice {notice}, faults "
                               f"{self.flow.faults}) after {timeout} s") from None

    def _carry_out(self, effect: Effect) -> None:
        if isinstance(effect, Send):
            self._spawn(self._send(effect), f"send {effect.name} {effect.command.id}")
        elif isinstance(effect, CheckPrinter):
            self._spawn(self._check_printer(), "printer-check")
        elif isinstance(effect, PrintTicket):
            self._spawn(self._print(effect), f"print {effect.ticket.number}")
        elif isinstance(effect, PublishHealth):
            log.info("health: ok=%s printer=%s", effect.health.ok, effect.health.printer)
            self.link.publish(self.link.topics.health(self.link.device), effect.health,
                              retain=True)
        elif isinstance(effect, Show):
            log.info("screen: %s", effect.phase.value)
        elif isinstance(effect, Speak) and self.voice is not None:
            self.voice.say(effect)

    # ------------------------------------------------------------ the controller
    async def _send(self, effect: Send) -> None:
        """Request; with retry, resend the same command (same id) until it is answered."""
        while True:
            try:
                reply = await self.link.request(effect.name, effect.command,
                                                timeout=self.request_timeout)
            except (RequestTimeout, NotConnected) as exc:
                if not effect.retry:
                    sent = not isinstance(exc, NotConnected)  # NotConnected: never published
                    self.dispatch(NoAnswer(effect.command.id, str(exc), sent))
                    return
                log.warning("%s %s unanswered (%s); retrying", effect.name, effect.command.id,
                            exc)
                if not self.link.connected:
                    await self.link.wait_connected()
                continue
            if not reply.ok and reply.error is not None:
                log.warning("%s %s refused: %s %s", effect.name, effect.command.id,
                            reply.error.code.value, reply.error.message)
            self.dispatch(Answered(reply))
            return

    def _on_inbound(self, inbound: Inbound) -> None:
        if inbound.topic.nearby:
            self._take_nearby(inbound.topic.nearby, inbound.payload)
        elif isinstance(inbound.payload, m.HallState):
            self.dispatch(HallUpdated(inbound.payload, inbound.retained))
        elif isinstance(inbound.payload, m.ServiceState):
            self.dispatch(ServiceUpdated(inbound.payload, inbound.retained))

    def _take_nearby(self, hall: str, summary: m.Message | None) -> None:
        """A nearby centre's summary from the city bridge; one naming another hall is refused."""
        if summary is not None and (not isinstance(summary, m.HallSummary)
                                    or summary.hall != hall):
            log.warning("summary on the topic of nearby centre %s is not that centre's; "
                        "ignored", hall)
            return
        self.dispatch(NearbyUpdated(hall, summary))

    # ------------------------------------------------------------ the printer
    async def _in_printer_thread(self, call: Callable[[*Args], T], *args: *Args) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._printer_thread, call,
                                                                *args)

    async def _status(self) -> tuple[m.PrinterHealth, str]:
        try:
            return health_of(await self._in_printer_thread(self.printer.status)), ""
        except PrinterError as exc:
            return m.PrinterHealth.OFFLINE, str(exc)

    async def _check_printer(self) -> None:
        status, detail = await self._status()
        self.dispatch(PrinterChecked(status, detail))

    async def _poll_printer(self) -> None:
        while True:
            if self.flow.phase in (Phase.IDLE, Phase.OUT_OF_SERVICE):
                await self._check_printer()
            await asyncio.sleep(self.printer_poll_s)

    async def _print(self, effect: PrintTicket) -> None:
        ticket = effect.ticket
        try:
            printout = printout_for(ticket, effect.hall)
        except PrinterError as exc:
            self.dispatch(PrintFailed(ticket.ticket, None, str(exc)))
            return
        try:
            await self._in_printer_thread(self.printer.print_ticket, printout)
        except PrinterError as exc:
            status = next((h for kind, h in _FAILURES if isinstance(exc, kind)),
                          m.PrinterHealth.ERROR)
            self.dispatch(PrintFailed(ticket.ticket, status, str(exc)))
            return
        status, _detail = await self._status()
        self.dispatch(Printed(ticket.ticket, status))

    # ------------------------------------------------------------ time
    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            self.dispatch(Tick())

    # ------------------------------------------------------------ the card reader (its thread)
    def _read_cards(self) -> None:
        """Read cards until stopped; reopen the reader after it disappears."""
        reader: CardReader | None = None
        while not self._stopping.is_set():
            try:
                reader = reader or self._open_reader()
                card = reader.read_card(READ_SLICE_S)
            except (ReaderNotFound, ReaderConfigError) as exc:
                self._post(ReaderChanged(False, str(exc)))
                _close_quietly(reader)
                reader = None  # the next read opens it again
                self._stopping.wait(REOPEN_READER_S)
                continue
            except IdCardError as exc:
                self._post(ReaderChanged(True))
                self._post(CardFailed(str(exc)))
                continue
            except Exception as exc:  # a dead reader thread would leave the kiosk deaf
                log.exception("card reader failed")
                self._post(ReaderChanged(False, f"card reader failed: {exc}"))
                _close_quietly(reader)
                reader = None
                self._stopping.wait(REOPEN_READER_S)
                continue
            self._post(ReaderChanged(True))
            if card is not None:
                self._hand_over(card)
        _close_quietly(reader)

    def _post(self, event: Event) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._dispatch_if_changed, event)

    def _dispatch_if_changed(self, event: Event) -> None:
        if isinstance(event, ReaderChanged) and event.ok and self.flow.reader_ok:
            return
        self.dispatch(event)

    def _hand_over(self, card: CardData) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._card_arrived, card)

    def _card_arrived(self, card: CardData) -> None:
        """Keep the keyed hash and the green flag; the card itself goes no further."""
        hall = self.flow.hall
        now = self.clock()
        today = (local_time(hall, now) if hall is not None else now).date()
        green_age = hall.green_age if hall is not None else DEFAULT_GREEN_AGE
        try:
            resident = resident_from_card(card, self._secret, today, green_age)
        except IdentityError as exc:
            self.dispatch(CardFailed(str(exc), unusable=True))
            return
        self.dispatch(CardRead(resident))


def _close_quietly(reader: CardReader | None) -> None:
    """Close a reader that may already be broken."""
    if reader is not None:
        try:
            reader.close()
        except Exception as exc:
            log.debug("closing the card reader: %s", exc)
