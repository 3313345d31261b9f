"""The MQTT link every process uses: connects, reconnects by itself, requests with a
timeout, follows retained state and events, and keeps its presence up to date.

The link runs on the asyncio loop that started it, with no thread of its own (aiomqtt's
model): the loop watches paho's socket and calls paho's read, write and keepalive steps, and
only the blocking connect runs on a worker thread. A process's commands, replies and
publishes never wait for another thread to hand over the GIL.

This is the project's only paho user: tools, benchmarks and tests that need a blocking
client, raw payloads or the broker's reason codes use ``SyncClient`` below.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from pydantic import BaseModel, ConfigDict, Field

from protocol import messages as m
from protocol.topics import BRIDGE, HallTopics, Topic, TopicError, parse_local

log = logging.getLogger(__name__)
T = TypeVar("T")


class LinkError(Exception):
    """Root of the link's errors."""


class NotConnected(LinkError, ConnectionError):
    """The broker is out of reach right now."""


class RequestTimeout(LinkError, TimeoutError):
    """The controller did not answer in time; retrying with the same command is safe."""


class AccessRefused(LinkError, PermissionError):
    """The broker refused this account (wrong password, or not allowed): fatal."""


class BrokerSettings(BaseModel):
    """Where the broker is and who this device is to it."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    host: str = Field("127.0.0.1", description="broker host name or address")
    port: int = Field(1883, ge=1, le=65535)
    username: str | None = None
    password: str | None = None
    password_file: str | None = Field(
        None, description="file holding the password, when password is not given; with "
                          "neither, the systemd credential broker-password is used if passed")
    tls_ca: str | None = Field(None, description="CA file; set to use TLS")
    keepalive: int = Field(15, ge=5, le=600)


@dataclass(frozen=True, slots=True)
class Inbound:
    """A message as the link hands it on: parsed topic, typed payload, raw MQTT extras."""

    topic: Topic
    payload: m.Message | None  # None for an empty (cleared) retained message
    raw: bytes
    retained: bool
    response_topic: str | None = None
    correlation: bytes | None = None
    expiry: int | None = None  # seconds left of the MQTT 5 message expiry, if it has one


Handler = Callable[[Inbound], Awaitable[None] | None]


def model_for(topic: Topic) -> type[m.Message] | None:
    """The payload model a topic carries (commands are decoded by the controller)."""
    if topic.section == "state":
        return _STATE_MODELS[topic.kind]
    if topic.section == "event":
        return m.CallEvent if topic.kind == "call" else m.Alert
    return _SINGLE_MODELS.get(topic.section)


_SINGLE_MODELS: dict[str, type[m.Message]] = {
    "reply": m.Reply, "presence": m.Presence, "health": m.DeviceHealth}
_STATE_MODELS: dict[str, type[m.Message]] = {
    "hall": m.HallState,
    "service": m.ServiceState,
    "counter": m.CounterState,
    "calls": m.RecentCalls,
    "summary": m.HallSummary,
    "alerts": m.AlertsState,
}


@dataclass
class Link:
    """One reconnecting MQTT 5 connection for one device of one hall."""

    broker: BrokerSettings
    hall: str
    device: str
    role: m.Role
    follow: Iterable[str] = ()
    session_expiry: int = 0  # seconds the broker keeps our subscriptions and queue offline
    announce: bool = True  # publish 'online' on connecting; False: the owner does, when ready
    topics: HallTopics = field(init=False)
    state: dict[str, m.Message] = field(default_factory=dict, init=False)
    _handlers: list[Handler] = field(default_factory=list, init=False)
    _connection_handlers: list[Callable[[bool], None]] = field(default_factory=list, init=False)
    _pending: dict[bytes, asyncio.Future[m.Reply]] = field(default_factory=dict, init=False)
    _connected: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _refused: str | None = field(default=None, init=False)  # why the broker said no
    _refusal: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _clock_offset: float | None = field(default=None, init=False)  # controller's - ours, s

    def __post_init__(self) -> None:
        self.topics = HallTopics(self.hall)
        self.follow = list(self.follow)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client = self._make_client()
        self._io: _LoopIO | None = None
        self._handler_tasks: set[asyncio.Future[None]] = set()

    # ------------------------------------------------------------ lifecycle
    def _make_client(self) -> mqtt.Client:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.device,
                             protocol=mqtt.MQTTv5)
        _sign_in(client, self.broker)
        client.will_set(self.topics.presence(self.device),
                        m.encode(m.Presence(state=m.PresenceState.OFFLINE, role=self.role)),
                        qos=1, retain=True)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

    async def start(self, wait: float | None = 10.0) -> None:
        """Connect in the background; wait up to ``wait`` seconds for the first connection."""
        self._loop = asyncio.get_running_loop()
        props = None
        if self.session_expiry:
            props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            props.SessionExpiryInterval = self.session_expiry
        self._client.connect_async(self.broker.host, self.broker.port, self.broker.keepalive,
                                   clean_start=not self.session_expiry, properties=props)
        self._io = _LoopIO(self._client, self._loop, self.device)
        if wait:
            waits = {asyncio.ensure_future(e.wait()) for e in (self._connected, self._refusal)}
            try:  # a refused account is fatal: no use waiting out ``wait``
                await asyncio.wait(waits, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiting in waits:
                    waiting.cancel()
            if self.connected:
                return
            if self._refused is not None:
                raise AccessRefused(self._refused)
            raise NotConnected(f"no broker at {self.broker.host}:{self.broker.port} after {wait} s")

    async def close(self) -> None:
        """Say 'stopped' and disconnect cleanly (a clean disconnect sends no last will)."""
        if self._client.is_connected():
            info = self._client.publish(
                self.topics.presence(self.device),
                m.encode(m.Presence(state=m.PresenceState.STOPPED, role=self.role)),
                qos=1, retain=True)
            await self.delivered(info, 2.0)
        if self._io is not None:
            await self._io.close()
        self._set_connected(False)
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(NotConnected("link closed"))

    async def __aenter__(self) -> Link:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    async def wait_connected(self, timeout: float | None = None) -> None:
        await asyncio.wait_for(self._connected.wait(), timeout)

    # ------------------------------------------------------------ subscriptions
    def on_message(self, handler: Handler) -> None:
        """Call ``handler`` on the asyncio loop for every followed message."""
        self._handlers.append(handler)

    def on_connection(self, handler: Callable[[bool], None]) -> None:
        """Call ``handler(True|False)`` on the asyncio loop when the link comes up or drops."""
        self._connection_handlers.append(handler)

    def publish(self, topic: str, message: m.Message | None, *, retain: bool = False,
                correlation: bytes | None = None) -> mqtt.MQTTMessageInfo:
        """Publish at QoS 1; ``None`` clears a retained topic."""
        props = None
        if correlation is not None:
            props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
            props.CorrelationData = correlation
        payload = m.encode(message) if message is not None else b""
        return self._client.publish(topic, payload, qos=1, retain=retain, properties=props)

    def flush(self) -> None:
        """Write what ``publish`` has queued now, not at the loop's next turn: for a sender
        with more work to do before it yields (the controller, after a reply)."""
        if self._io is not None:
            self._io.flush()

    async def delivered(self, info: mqtt.MQTTMessageInfo, timeout: float) -> bool:
        """Whether the broker acknowledged a ``publish`` within ``timeout`` seconds."""
        return self._io is not None and await self._io.published(info, timeout)

    async def request(self, command_name: str, command: m.Command,
                      timeout: float = 3.0) -> m.Reply:
        """Send a command and wait for its reply; raise NotConnected or RequestTimeout."""
        if not self.connected:
            raise NotConnected("not connected to the broker")
        loop = asyncio.get_running_loop()
        correlation = command.id.encode()
        sent = time.time()
        if self._clock_offset is not None:  # the controller's clock, learnt from replies
            command = command.model_copy(update={
                "deadline": sent + self._clock_offset + timeout - DEADLINE_MARGIN_S})
        fut: asyncio.Future[m.Reply] = loop.create_future()
        self._pending[correlation] = fut
        props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        props.ResponseTopic = self.topics.reply(self.device)
        props.CorrelationData = correlation
        props.MessageExpiryInterval = expiry_for(timeout)
        try:
            self._client.publish(self.topics.command(self.device, command_name),
                                 m.encode(command), qos=1, properties=props)
            async with asyncio.timeout(timeout):  # unlike wait_for, never swallows a cancel
                reply = await fut
            if reply.clock is not None:
                self._clock_offset = reply.clock - (sent + time.time()) / 2
            return reply
        except TimeoutError as exc:
            raise RequestTimeout(
                f"no reply to {command_name} {command.id} within {timeout} s") from exc
        finally:
            self._pending.pop(correlation, None)

    # ------------------------------------------------------------ paho's callbacks
    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.warning("broker refused %s: %s", self.device, reason)
            if reason.value in _ACCESS_REFUSED:
                self._refused = (f"the broker at {self.broker.host}:{self.broker.port} refused "
                                 f"account {self.broker.username!r}: {reason}")
                self._post(self._refusal.set)
            return
        subs = [(f, 1) for f in self.follow]
        if self.role is not m.Role.CONTROLLER:
            subs.append((self.topics.reply(self.device), 1))
        if subs:
            client.subscribe(subs)
        if self.announce:
            client.publish(self.topics.presence(self.device),
                           m.encode(m.Presence(state=m.PresenceState.ONLINE, role=self.role)),
                           qos=1, retain=True)
        if self._io is not None:
            self._io.up()
        self._post(self._set_connected, True)

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        log.info("link %s disconnected: %s", self.device, reason)
        if self._io is not None:
            self._io.lost()
        self._post(self._set_connected, False)

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        self._post(self._dispatch, msg)

    def _post(self, fn: Callable[..., None], *args: Any) -> None:
        """Run ``fn`` once paho's current step is over: paho calls back on the loop, but
        inside its own read or write."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon(fn, *args)

    # ------------------------------------------------------------ asyncio side
    def _set_connected(self, up: bool) -> None:
        if up == self._connected.is_set():
            return
        if up:
            self._connected.set()
        else:
            self._connected.clear()
        for handler in self._connection_handlers:
            handler(up)

    def _dispatch(self, msg: mqtt.MQTTMessage) -> None:
        try:
            topic = parse_local(msg.topic)
        except TopicError:
            log.warning("ignoring message on foreign topic %s", msg.topic)
            return
        if topic.section == BRIDGE and topic.hall != self.hall:
            log.warning("ignoring another hall's bridge flag on %s", msg.topic)
            return
        props = getattr(msg, "properties", None)
        correlation = getattr(props, "CorrelationData", None)
        response_topic = getattr(props, "ResponseTopic", None)
        expiry = getattr(props, "MessageExpiryInterval", None)
        raw = bytes(msg.payload)
        try:
            payload = _payload(topic, raw)
        except m.PayloadError as exc:
            log.warning("bad payload on %s: %s", msg.topic, exc)
            return
        if topic.section == "reply" and correlation is not None:
            fut = self._pending.get(correlation)
            if fut is not None and not fut.done() and isinstance(payload, m.Reply):
                fut.set_result(payload)
            return
        if topic.section in ("state", "presence", "health", BRIDGE):
            if payload is None:
                self.state.pop(msg.topic, None)
            else:
                self.state[msg.topic] = payload
        inbound = Inbound(topic, payload, raw, bool(msg.retain), response_topic,
                          correlation, expiry)
        for handler in self._handlers:
            result = handler(inbound)
            if result is not None:
                task = asyncio.ensure_future(result)
                self._handler_tasks.add(task)
                task.add_done_callback(self._handler_tasks.discard)


def _payload(topic: Topic, raw: bytes) -> m.Message | None:
    """The typed payload of a message (None: empty, or a command, which the controller
    decodes); PayloadError if it is not what its topic carries."""
    if not raw:
        return None
    if topic.section == BRIDGE:
        return m.BridgeFlag.from_flag(raw)
    model = model_for(topic)
    return None if model is None else m.decode(model, raw)


DEADLINE_MARGIN_S = 0.25  # a command's deadline comes this much before its sender gives up


def expiry_for(timeout: float) -> int:
    """A command's MQTT message expiry for a sender that waits ``timeout`` seconds: a
    second less (Mosquitto counts whole seconds), so that the broker drops it, and the
    controller refuses it, before the sender gives up. Nothing runs after "no answer"
    when the timeout is 2 s or more."""
    return max(1, math.floor(timeout) - 1)


_ACCESS_REFUSED = {134, 135, 138}  # bad user name or password, not authorized, banned


def new_command_id() -> str:
    """A fresh command id; reuse it when retrying the same command."""
    return uuid.uuid4().hex


RECONNECT_MIN_S = 1.0  # the first wait after a lost connection, doubling up to the max
RECONNECT_MAX_S = 5.0
MISC_EVERY_S = 1.0  # how often paho's keepalive step runs (as its own loop would)
CLOSE_WAIT_S = 1.0  # how long closing waits for a connect under way


class _LoopIO:
    """Serves one paho client on an asyncio loop: the loop watches its socket, a task keeps
    it connected (reconnecting after 1 s, doubling to 5 s) and runs its keepalive.

    paho calls the socket callbacks on the loop's thread, except while connecting, which
    runs on a worker thread so that a broker out of reach never blocks the loop; those are
    handed to the loop."""

    def __init__(self, client: mqtt.Client, loop: asyncio.AbstractEventLoop,
                 name: str) -> None:
        self._client = client
        self._loop = loop
        self._thread = threading.get_ident()
        self._lost = asyncio.Event()
        self._acked: dict[int, asyncio.Future[None]] = {}
        self._connecting: asyncio.Future[None] | None = None
        self._up = False
        self._done = False  # closed: a late connect's socket is not watched
        client.on_socket_open = self._opened
        client.on_socket_close = self._closed
        client.on_socket_register_write = self._want_write
        client.on_socket_unregister_write = self._wrote
        client.on_publish = self._on_publish
        self._task = loop.create_task(self._stay_connected(), name=f"mqtt {name}")

    def up(self) -> None:
        """The broker accepted the connection: the next loss waits the shortest time."""
        self._up = True

    def lost(self) -> None:
        """paho reported the connection gone: connect again."""
        self._lost.set()

    def flush(self) -> None:
        """Write the queued packets now, on the loop's thread (paho leaves the socket watched
        for what does not fit)."""
        if threading.get_ident() == self._thread and self._client.want_write():
            self._client.loop_write()

    async def published(self, info: mqtt.MQTTMessageInfo, timeout: float) -> bool:
        """Wait up to ``timeout`` for the broker's PUBACK of a QoS 1 message."""
        if info.is_published():
            return True
        done = self._acked.setdefault(info.mid, self._loop.create_future())
        try:
            async with asyncio.timeout(timeout):
                await done
        except TimeoutError:
            return False
        finally:
            self._acked.pop(info.mid, None)
        return True

    async def close(self) -> None:
        """Stop reconnecting and disconnect cleanly. A connect still under way after
        ``CLOSE_WAIT_S`` (a broker that never answers) is left to its daemon thread, whose
        socket is then never watched."""
        self._done = True
        connecting = self._connecting
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        if connecting is not None:
            await asyncio.wait([connecting], timeout=CLOSE_WAIT_S)
            if not connecting.done():
                return
        self._client.disconnect()
        self._client.loop_write()  # sends DISCONNECT and closes the socket
        sock = self._client.socket()
        if sock is not None:  # the DISCONNECT could not be written: close all the same
            self._closed(self._client, None, sock)
            sock.close()

    async def _stay_connected(self) -> None:
        delay = RECONNECT_MIN_S
        while True:
            self._lost.clear()
            self._connecting = self._connect()
            try:
                await asyncio.shield(self._connecting)
            except OSError as exc:
                log.debug("connecting failed: %s", exc)
            except Exception:  # e.g. a host name paho refuses: logged, and tried again
                log.exception("connecting failed")
            else:
                await self._serve_until_lost()
            finally:
                self._connecting = None
            if self._up:
                self._up, delay = False, RECONNECT_MIN_S
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECONNECT_MAX_S)

    def _connect(self) -> asyncio.Future[None]:
        """paho's blocking connect, on a daemon thread: a broker out of reach blocks neither
        the loop nor the process's exit."""
        done: asyncio.Future[None] = self._loop.create_future()

        def settle(error: BaseException | None) -> None:
            if not done.done():
                done.set_result(None) if error is None else done.set_exception(error)

        def connect() -> None:
            try:
                self._client.reconnect()
            except BaseException as exc:  # handed to the loop, which logs it
                self._on_loop(settle, exc)
            else:
                self._on_loop(settle, None)

        threading.Thread(target=connect, name="mqtt-connect", daemon=True).start()
        return done

    async def _serve_until_lost(self) -> None:
        """paho's keepalive step every second (it closes a connection gone silent)."""
        while not self._lost.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(MISC_EVERY_S):
                    await self._lost.wait()
            self._client.loop_misc()

    # ------------------------------------------------------------ paho's socket callbacks
    def _on_loop(self, fn: Callable[..., object], *args: Any) -> None:
        if threading.get_ident() == self._thread:
            fn(*args)
        else:
            with contextlib.suppress(RuntimeError):  # the loop has closed meanwhile
                self._loop.call_soon_threadsafe(fn, *args)

    def _opened(self, _c: mqtt.Client, _u: Any, sock: Any) -> None:
        _set_nodelay(sock)
        if not self._done:
            self._on_loop(self._loop.add_reader, sock.fileno(), self._readable)

    def _closed(self, _c: mqtt.Client, _u: Any, sock: Any) -> None:
        fd = sock.fileno()
        self._on_loop(self._forget, fd)

    def _forget(self, fd: int) -> None:
        self._loop.remove_reader(fd)
        self._loop.remove_writer(fd)

    def _want_write(self, _c: mqtt.Client, _u: Any, sock: Any) -> None:
        if not self._done:
            self._on_loop(self._loop.add_writer, sock.fileno(), self._client.loop_write)

    def _wrote(self, _c: mqtt.Client, _u: Any, sock: Any) -> None:
        self._on_loop(self._loop.remove_writer, sock.fileno())

    def _readable(self) -> None:
        self._client.loop_read()

    def _on_publish(self, _c: mqtt.Client, _u: Any, mid: int, _r: Any, _p: Any) -> None:
        done = self._acked.get(mid)
        if done is not None and not done.done():
            done.set_result(None)


def _set_nodelay(sock: Any) -> None:
    """Nagle's algorithm costs ~87 ms a round trip on loopback (field notes)."""
    with contextlib.suppress(OSError):  # not a TCP socket (e.g. a websocket wrapper)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _sign_in(client: mqtt.Client, broker: BrokerSettings) -> None:
    """Give ``client`` the account and TLS of ``broker``: the password is the one given, or
    read from its file, or from the systemd credential broker-password."""
    if broker.username:
        password, source = broker.password, broker.password_file
        credentials = os.environ.get("CREDENTIALS_DIRECTORY")
        if (password is None and source is None and credentials
                and Path(credentials, "broker-password").is_file()):
            source = str(Path(credentials, "broker-password"))
        if password is None and source is not None:
            try:
                password = Path(source).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise LinkError(f"broker password file {source}: {exc.strerror}") from exc
        client.username_pw_set(broker.username, password)
    if broker.tls_ca:
        client.tls_set(ca_certs=broker.tls_ca, cert_reqs=ssl.CERT_REQUIRED)


def matches(topic_filter: str, topic: str) -> bool:
    """Whether ``topic_filter`` (with ``+`` and ``#``) takes in ``topic``, by MQTT's rules."""
    return bool(mqtt.topic_matches_sub(topic_filter, topic))


# ---------------------------------------------------------------- a blocking client
@dataclass(frozen=True, slots=True)
class Ack:
    """The broker's answer to a CONNECT, SUBSCRIBE or PUBLISH: an MQTT 5 reason code."""

    value: int
    name: str = ""

    @property
    def is_failure(self) -> bool:
        return self.value >= 0x80

    def __str__(self) -> str:
        return self.name or f"reason code {self.value}"


@dataclass(frozen=True, slots=True)
class Received:
    """A message as a SyncClient got it: raw payload and MQTT 5 properties."""

    topic: str
    payload: bytes
    retain: bool = False
    response_topic: str | None = None
    correlation: bytes | None = None
    expiry: int | None = None  # seconds left of its message expiry, if it has one
    user_properties: tuple[tuple[str, str], ...] = ()


class SyncClient:
    """A blocking MQTT 5 client for tools, benchmarks and tests (TCP_NODELAY, QoS 1).

    ``connect``, ``subscribe`` and ``publish`` wait for the broker's answer (CONNACK, SUBACK,
    PUBACK) on a condition with ``timeout``, never on a sleep; ``send`` publishes without
    waiting (its PUBACK goes to ``on_ack``). Payloads are raw bytes, sent as given, malformed
    on purpose if need be. Messages are kept in ``messages``, or handed to ``on_message`` on
    paho's thread when one is given; ``follow`` is subscribed again on every connection.

    To show that something did NOT arrive, send a marker afterwards on a topic the client
    reads and look at what came before it (``received_before``): the broker keeps a client's
    order, so the answer is final once the marker is in.
    """

    def __init__(self, settings: BrokerSettings, *, client_id: str | None = None,
                 session_expiry: int = 0, timeout: float = 3.0, follow: Iterable[str] = (),
                 will: tuple[str, bytes] | None = None, keepalive: int | None = None,
                 reconnect_s: tuple[int, int] = (1, 5),
                 on_message: Callable[[Received], None] | None = None,
                 on_ack: Callable[[int, Ack], None] | None = None,
                 on_connack: Callable[[Ack], None] | None = None) -> None:
        self.settings = settings
        self.timeout = timeout
        self.session_expiry = session_expiry  # seconds the broker keeps the session; 0: none
        self.follow = list(follow)
        self.keepalive = keepalive or settings.keepalive
        self.messages: list[Received] = []
        self.disconnects = 0  # connections lost or refused since connect()
        self.on_message, self.on_ack, self.on_connack = on_message, on_ack, on_connack
        self._cond = threading.Condition()
        self._connack: Ack | None = None
        self._followed = not self.follow
        self._follow_mid: int | None = None
        self._subacks: dict[int, Ack] = {}
        self._pubacks: dict[int, Ack] = {}
        self._unawaited: set[int] = set()  # mids sent without waiting, PUBACK not yet in
        self._closing = False
        name = client_id or f"{settings.username or 'anonymous'}-{uuid.uuid4().hex[:8]}"
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=name,
                                  protocol=mqtt.MQTTv5)
        _sign_in(self.client, settings)
        if will is not None:
            self.client.will_set(will[0], will[1], qos=1, retain=True)
        self.client.reconnect_delay_set(*reconnect_s)
        self.client.on_socket_open = lambda _c, _u, sock: _set_nodelay(sock)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_publish = self._on_publish
        self.client.on_message = self._on_message
        self.client.on_disconnect = self._on_disconnect

    @property
    def connected(self) -> bool:
        return bool(self.client.is_connected())

    def connect(self, *, retry: bool = False) -> Ack:
        """Connect; the CONNACK's reason code, once ``follow`` is subscribed. A refused
        login is closed again. NotConnected when no broker answers within ``timeout``
        (``retry``: keep trying until then, as for a broker still starting)."""
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = self.session_expiry
        host, port = self.settings.host, self.settings.port
        try:
            if retry:
                self.client.connect_async(host, port, self.keepalive,
                                          clean_start=self.session_expiry == 0, properties=props)
            else:
                self.client.connect(host, port, self.keepalive,
                                    clean_start=self.session_expiry == 0, properties=props)
        except OSError as exc:
            raise NotConnected(f"no broker at {host}:{port}: {exc}") from exc
        self.client.loop_start()
        try:
            reason = self._wait(lambda: self._connack, "CONNACK")
            if not reason.is_failure:
                self._wait(lambda: self._followed or None, "SUBACK for " + ", ".join(self.follow))
        except TimeoutError as exc:
            self.close()
            raise NotConnected(f"no broker answered at {host}:{port}: {exc}") from exc
        if reason.is_failure:
            self.close()
        return reason

    def subscribe(self, topic_filter: str) -> Ack:
        """Subscribe at QoS 1; the SUBACK's reason code (granted QoS, or a refusal)."""
        _, mid = self.client.subscribe(topic_filter, 1)
        if mid is None:
            raise NotConnected(f"subscribe {topic_filter} was not sent")
        return self._wait(lambda: self._subacks.pop(mid, None), f"SUBACK for {topic_filter}")

    def publish(self, topic: str, payload: bytes | str = b"", *, retain: bool = False,
                response_topic: str | None = None, correlation: bytes | None = None,
                expiry: int | None = None,
                user_properties: Iterable[tuple[str, str]] = ()) -> Ack:
        """Publish at QoS 1; the PUBACK's reason code (135: not authorized)."""
        info = self.client.publish(topic, payload, qos=1, retain=retain, properties=_publish_props(
            response_topic, correlation, expiry, user_properties))
        return self._wait(lambda: self._pubacks.pop(info.mid, None), f"PUBACK for {topic}")

    def send(self, topic: str, payload: bytes | str = b"", *, retain: bool = False,
             response_topic: str | None = None, correlation: bytes | None = None,
             expiry: int | None = None, user_properties: Iterable[tuple[str, str]] = ()) -> int:
        """Publish at QoS 1 without waiting; the message id its PUBACK will carry."""
        mid = self.client.publish(topic, payload, qos=1, retain=retain, properties=_publish_props(
            response_topic, correlation, expiry, user_properties)).mid
        with self._cond:
            if self._pubacks.pop(mid, None) is None:
                self._unawaited.add(mid)
        return mid

    def wait_for(self, match: Callable[[Received], bool], timeout: float | None = None, *,
                 take: bool = False) -> Received | None:
        """The first message kept that matches, waiting up to ``timeout`` (None: not in
        time); ``take`` removes it from ``messages``."""
        def find() -> Received | None:
            return next((msg for msg in self.messages if match(msg)), None)
        with self._cond:
            found = self._cond.wait_for(find, self.timeout if timeout is None else timeout)
            if found is not None and take:
                self.messages.remove(found)
        return found

    def wait_message(self, topic: str, payload: bytes | None = None) -> Received:
        """The first message received on ``topic`` (with ``payload``, if given)."""
        found = self.wait_for(
            lambda msg: msg.topic == topic and (payload is None or msg.payload == payload))
        if found is None:
            raise TimeoutError(f"{self.settings.username}: no message on {topic} "
                               f"within {self.timeout} s")
        return found

    def received_before(self, marker_topic: str, marker: bytes) -> list[Received]:
        """Every message that arrived before the marker ``marker`` on ``marker_topic``."""
        found = self.wait_message(marker_topic, marker)
        with self._cond:
            return self.messages[: self.messages.index(found)]

    def wait_disconnect(self) -> int:
        """Wait until the connection has been lost at least once; the count of losses."""
        return self._wait(lambda: self.disconnects or None, "disconnect")

    def close(self) -> None:
        self._closing = True
        self.client.disconnect()
        self.client.loop_stop()

    def _wait(self, ready: Callable[[], T | None], what: str) -> T:
        with self._cond:
            result = self._cond.wait_for(ready, self.timeout)
        if result is None:
            raise TimeoutError(f"{self.settings.username}: no {what} within {self.timeout} s")
        return result

    # ------------------------------------------------------------ paho's thread
    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        ack = Ack(int(reason.value), str(reason))
        if ack.is_failure:
            client.disconnect()  # no automatic retry of a refused login
        elif self.follow:
            self._follow_mid = client.subscribe([(f, 1) for f in self.follow])[1]
        with self._cond:
            self._connack = ack
            self._cond.notify_all()
        if self.on_connack is not None:
            self.on_connack(ack)

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, _r: Any, _p: Any) -> None:
        if self._closing:
            return
        with self._cond:
            self.disconnects += 1
            self._cond.notify_all()

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, mid: int, reasons: list[Any],
                      _p: Any) -> None:
        with self._cond:
            if mid == self._follow_mid:
                self._followed = True
            else:
                self._subacks[mid] = Ack(int(reasons[0].value), str(reasons[0]))
            self._cond.notify_all()

    def _on_publish(self, _c: mqtt.Client, _u: Any, mid: int, reason: Any, _p: Any) -> None:
        ack = Ack(int(reason.value), str(reason))
        with self._cond:
            if mid in self._unawaited:
                self._unawaited.discard(mid)
            else:
                self._pubacks[mid] = ack
            self._cond.notify_all()
        if self.on_ack is not None:
            self.on_ack(mid, ack)

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        props = getattr(msg, "properties", None)
        received = Received(
            msg.topic, bytes(msg.payload), bool(msg.retain),
            getattr(props, "ResponseTopic", None), getattr(props, "CorrelationData", None),
            getattr(props, "MessageExpiryInterval", None),
            tuple(getattr(props, "UserProperty", ())))
        if self.on_message is not None:
            self.on_message(received)
            return
        with self._cond:
            self.messages.append(received)
            self._cond.notify_all()


def _publish_props(response_topic: str | None, correlation: bytes | None, expiry: int | None,
                   user_properties: Iterable[tuple[str, str]]) -> Properties | None:
    """A PUBLISH's MQTT 5 properties, or None when it has none."""
    props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    if response_topic is not None:
        props.ResponseTopic = response_topic
    if correlation is not None:
        props.CorrelationData = correlation
    if expiry is not None:
        props.MessageExpiryInterval = expiry
    if pairs := list(user_properties):
        props.UserProperty = pairs
    return None if props.isEmpty() else props  # type: ignore[no-untyped-call]
