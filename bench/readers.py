"""Readers beside the writer: the hall's commands while the web service reads a year.

A real Mosquitto, the controller (``python -m hall``) with 50 counters, a clerk signed in
at each and 2,000 waiting, on a copy of a journal holding a year of history
(bench/year_history.py), and the web service (``python -m web``; ``--web controller``: the
manager's app served by the controller itself, as before issue 14). A kiosk's issue and a
counter's call_next round trips are measured (a) alone, (b) while the manager's year report
and its CSV export run, (c) while what-ifs run, (d) while 1,000 residents' status pages
follow their tickets, (e) all at once. The readers' load runs in a process of its own
(bench/reader_load.py); each loaded phase lasts until every load finished at least once,
the year report twice. Before the phases, the month report is measured alone, then the
year report once: that first one fills the reader's cache of past days
(``year_report_first_s``), which the web service would otherwise fill at its start while
phase (a) runs; a hall's web service has filled it long before (``year_report_s``: the
report as the manager gets it from then on). ``host_pace``: how fast the shared host was
going at the run's start and end (bench/machine.py), to tell a slow hour from a slow change.
The broker, the controller and the web service run at the CPU priorities their systemd units
give them (``Nice=``, and the real-time class the units' ``chrt`` gives the broker and the
writer's thread once they are up), the measuring devices at the controller's
(``DEVICES_UNIT``), the load at the bench's own (a raised priority needs root); ``nice`` and
``policy`` say which each had.

``python -m bench.readers [--days 250] [--per-day 2000] [--counters 50] [--waiting 2000]
[--streams 1000] [--rounds 300] [--web auto|service|controller] --json``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp

from bench.machine import host_pace, machine, percentile
from bench.proc_memory import Memory
from bench.reader_load import LoadProcess
from bench.year_history import CACHE, History, Spec, ensure
from broker_config.process import MosquittoProcess
from demo.hallfiles import write_hall_config
from hallconfig import HallConfig, load_hall_config
from protocol import messages as m
from protocol.link import Link, LinkError, new_command_id
from web.accounts import Account, WebRole, hash_password, save_accounts

ROOT = Path(__file__).resolve().parents[1]
PHASES: dict[str, tuple[str, ...]] = {
    "alone": (), "year_report": ("report", "csv"), "whatif": ("whatif",),
    "streams": ("streams",), "all": ("report", "csv", "whatif", "streams")}
WEB_DEVICE = "web"  # the web service's own device and broker account
USER = "bench"
PASSWORD = "bench-readers-password"
TIMEOUT_S = 60.0  # a command's wait for its reply here (a kiosk gives up after 3 s)
GIVES_UP_MS = 3000.0
PACE_S = 0.02  # mean pause between commands
STREAMS_PER_ADDRESS = 10
# The measuring devices stand for kiosks and callers, each on a Pi of its own: once the hall
# runs, this process takes the writer's priority, so the contention on the controller's
# machine is not charged to them. The readers' load (tablets and phones, also elsewhere, but
# it must run somewhere) keeps the bench's first priority.
DEVICES_UNIT = "lobby-hall.service"
BROKER_UNIT = "mosquitto.service.d/lobby.conf"


@dataclass(frozen=True)
class Options:
    days: int = 250
    per_day: int = 2000
    counters: int = 50
    waiting: int = 2000
    streams: int = 1000
    rounds: int = 300  # issue + call_next pairs per phase, at least
    web: str = "auto"  # service, controller, or auto (service if python -m web exists)
    cache: Path = CACHE
    phase_cap_s: float = 1200.0  # a phase stops measuring after this, loads done or not
    seed: int = 1

    @property
    def mode(self) -> str:
        if self.web != "auto":
            return self.web
        return "service" if (ROOT / "web" / "__main__.py").exists() else "controller"


@dataclass
class Child:
    """A child process (the controller or the web service) with its log."""

    name: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Rig:
    """Broker, controller, web service and the measuring devices, under one work directory."""

    def __init__(self, workdir: Path, history: History, opts: Options) -> None:
        self.workdir = workdir
        self.history = history
        self.opts = opts
        self.children: list[Child] = []
        self.links: dict[str, Link] = {}
        self.memory = Memory()
        self.facts: dict[str, Any] = {"web": opts.mode}
        self.tokens: list[str] = []
        self.next_service = "A"
        self.base_nice = os.nice(0)  # every priority below is relative to the bench's own
        source = self._source()
        self.broker = MosquittoProcess(load_hall_config(source), workdir / "broker")
        self.broker.start()
        assert self.broker.pid is not None
        self._as_unit(BROKER_UNIT, self.broker.pid)
        self.config_path = write_hall_config(workdir / "hall", self.broker, source=source,
                                             all_day=True)
        self.config: HallConfig = load_hall_config(self.config_path)
        self.today = datetime.now(ZoneInfo(self.config.hall.timezone)).date()
        self.env = {**os.environ, "PYTHONPATH": str(ROOT),
                    "LOBBY_MANAGERS": str(workdir / "hall" / "managers.toml")}

    def _source(self) -> Path:
        """The history's hall, with the web service's own device if it lacks one."""
        path = self.workdir / "readers-hall.toml"
        text = self.history.hall.read_text(encoding="utf-8")
        if all(d["id"] != WEB_DEVICE for d in tomllib.loads(text).get("devices", [])):
            text += f'\n[[devices]]\nid = "{WEB_DEVICE}"\nrole = "manager"\n'
        path.write_text(text, encoding="utf-8")
        return path

    # ------------------------------------------------------------ start and stop
    async def start(self) -> None:
        hall = self.workdir / "hall"
        began = time.monotonic()
        shutil.copyfile(self.history.journal, hall / "journal.sqlite3")
        self.facts["journal_copy_s"] = round(time.monotonic() - began, 1)
        save_accounts(hall / "managers.toml", {USER: Account(USER, WebRole.MANAGER,
                                                             hash_password(PASSWORD))})
        (self.workdir / "password").write_text(PASSWORD, encoding="utf-8")
        controller = self._spawn("controller", "hall")
        for device, role in [("kiosk-1", m.Role.KIOSK), ("manager", m.Role.MANAGER),
                             *((f"caller-{n}", m.Role.CALLER)
                               for n in range(1, self.opts.counters + 1))]:
            self.links[device] = Link(self.broker.broker_settings(device), self.config.hall.id,
                                      device, role)
            await self.links[device].start()
        await self._answered()
        unit_class("lobby-hall.service", controller.process.pid)
        if self.opts.mode == "service":
            self._web_account()
            self._spawn("web", "web")
        await self._web_up()
        self._as_unit(DEVICES_UNIT, os.getpid())  # see DEVICES_UNIT
        pids = {"broker": self.broker.pid, **{c.name: c.process.pid for c in self.children},
                "devices": os.getpid()}
        self.facts["nice"] = {name: os.getpriority(os.PRIO_PROCESS, pid or 0)
                              for name, pid in pids.items()}
        self.facts["policy"] = {name: policy_of(pid or 0) for name, pid in pids.items()}

    def _web_account(self) -> None:
        """The web service's device and broker password in its [web] section (the ones
        write_hall_config does not set already)."""
        web = tomllib.loads(self.config_path.read_text(encoding="utf-8")).get("web", {})
        lines = [] if "device" in web else [f'device = "{WEB_DEVICE}"']
        if "broker_password_file" not in web:
            password = self.workdir / "hall" / "web-broker-password"
            password.write_text(self.broker.broker_settings(WEB_DEVICE).password or "",
                                encoding="utf-8")
            lines.append(f'broker_password_file = "{password}"')
        text = self.config_path.read_text(encoding="utf-8").replace(
            "[web]\n", "[web]\n" + "".join(f"{line}\n" for line in lines), 1)
        self.config_path.write_text(text, encoding="utf-8")

    def _spawn(self, name: str, module: str) -> Child:
        """``python -m module`` at the CPU priority its systemd unit gives it."""
        nice = unit_nice(f"lobby-{module}.service")
        with (self.workdir / f"{name}.log").open("ab") as log:
            process = subprocess.Popen(
                [*self._at(nice), sys.executable, "-m", module,
                 "--config", str(self.config_path), "--log-level", "WARNING"],
                cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=self.env)
        child = Child(name, process)
        self.children.append(child)
        return child

    def _as_unit(self, unit: str, pid: int) -> None:
        """Give a running process the CPU priority ``unit`` gives its service: its ``Nice=``
        (a raised one needs root: the run says, ``nice``) and its real-time class."""
        with suppress(PermissionError):
            os.setpriority(os.PRIO_PROCESS, pid, self.base_nice + unit_nice(unit))
        unit_class(unit, pid)

    def _at(self, nice: int) -> list[str]:
        """The command prefix that runs a child at ``nice`` above the bench's first priority."""
        inherited = os.nice(0)
        if inherited < 0 and os.sched_getscheduler(0) & os.SCHED_RESET_ON_FORK:
            inherited = 0  # sched(7): the child of such a thread starts at 0, not below
        change = self.base_nice + nice - inherited
        return ["nice", "-n", str(change)] if change else []

    async def _answered(self) -> None:
        """Wait until the controller answers (it may still be opening the journal)."""
        deadline = time.monotonic() + 120
        while True:
            try:
                await self.request("manager", "set_notice", m.SetNotice(id=new_command_id(),
                                                                         text=""), 2)
                return
            except LinkError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the controller never answered: see {self.workdir}"
                                       "/controller.log") from None
                self._check_children()

    async def _web_up(self) -> None:
        url = f"http://{self.config.web.host}:{self.config.web.port}/login"
        deadline = time.monotonic() + 120
        async with aiohttp.ClientSession() as session:
            while True:
                with suppress(aiohttp.ClientError, OSError):
                    async with session.get(url) as response:
                        if response.status == 200:
                            return
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the manager's app never answered at {url}")
                self._check_children()
                await asyncio.sleep(0.2)

    def _check_children(self) -> None:
        for child in self.children:
            if child.process.poll() is not None:
                log = (self.workdir / f"{child.name}.log").read_text(errors="replace")
                raise RuntimeError(f"{child.name} exited ({child.process.returncode}):\n"
                                   f"{log[-3000:]}")

    async def close(self) -> None:
        for link in self.links.values():
            await link.close()
        for child in reversed(self.children):
            child.stop()
        self.broker.stop()

    # ------------------------------------------------------------ the hall's day
    async def request(self, device: str, name: str, command: m.Command,
                      timeout: float = TIMEOUT_S) -> m.Reply:
        reply = await self.links[device].request(name, command, timeout=timeout)
        if not reply.ok:
            raise RuntimeError(f"{device} {name}: {reply.error}")
        return reply

    async def open_hall(self) -> None:
        """A clerk at every counter, then ``waiting`` residents waiting (staff-issued)."""
        await asyncio.gather(*(self.request(
            f"caller-{n}", "sign_in", m.SignIn(id=new_command_id(), staff_no=f"S{n:03d}",
                                               pin="1234"))
            for n in range(1, self.opts.counters + 1)))
        services = [s.id for s in self.config.services]
        for start in range(0, self.opts.waiting, 50):
            replies = await asyncio.gather(*(self.request("manager", "issue", m.IssueTicket(
                id=new_command_id(), service=services[n % len(services)], green=n % 12 == 0,
                print_on_kiosk=False)) for n in range(start, min(start + 50,
                                                                   self.opts.waiting))))
            self.tokens += [str(r.result["ticket"]["token"]) for r in replies if r.result]
        (self.workdir / "tokens").write_text("\n".join(self.tokens), encoding="utf-8")

    # ------------------------------------------------------------ phases
    async def phase(self, loads: tuple[str, ...], rng: random.Random) -> dict[str, Any]:
        """Commands measured while ``loads`` run; the loads' own figures."""
        async with self._load(loads) as driver:
            began = time.monotonic()
            issue_ms: list[float] = []
            call_ms: list[float] = []
            timeouts = 0
            counter = 0
            while len(call_ms) < self.opts.rounds or not driver.satisfied():
                if time.monotonic() - began > self.opts.phase_cap_s:
                    break
                for kind, sample in (("issue", issue_ms), ("call_next", call_ms)):
                    await asyncio.sleep(rng.expovariate(1 / PACE_S))
                    counter = counter % self.opts.counters + 1
                    took = await self._timed(kind, counter)
                    timeouts += took is None
                    sample.append(TIMEOUT_S * 1000 if took is None else took)
                self.memory.sample({c.name: c.process.pid for c in self.children})
            seconds = time.monotonic() - began
        self.memory.sample({c.name: c.process.pid for c in self.children})
        return {"commands": {**_summary(issue_ms + call_ms), "issue": _summary(issue_ms),
                             "call_next": _summary(call_ms), "timeouts": timeouts,
                             "s": round(seconds, 1), "load_average": os.getloadavg()},
                "loads": driver.results()}

    async def _timed(self, kind: str, counter: int) -> float | None:
        """One command's round trip (ms), None if unanswered; an issue's print confirmed."""
        began = time.perf_counter()
        try:
            if kind == "issue":
                reply = await self.request("kiosk-1", "issue", m.IssueTicket(
                    id=new_command_id(), service=self.next_service))
            else:
                reply = await self.request(f"caller-{counter}", "call_next",
                                           m.CallNext(id=new_command_id()))
        except LinkError:
            return None
        took = (time.perf_counter() - began) * 1000
        if kind == "call_next" and reply.result and reply.result["called"]:
            # the next resident comes for the service just called: every service keeps its
            # queue, so a specialist window always has someone to call
            self.next_service = str(reply.result["called"]["service"])
        if kind == "issue" and reply.result:
            await self.request("kiosk-1", "printed", m.TicketPrinted(
                id=new_command_id(), ticket=reply.result["ticket"]["ticket"]))
        return took

    @asynccontextmanager
    async def _load(self, loads: tuple[str, ...], rounds: int = 0) -> AsyncIterator[LoadProcess]:
        driver = LoadProcess(loads)
        if loads:
            await driver.start(self._load_argv(loads, rounds), self.env)
            assert driver.process is not None
            self.facts["nice"]["load"] = os.getpriority(os.PRIO_PROCESS, driver.process.pid)
            self.facts["policy"]["load"] = policy_of(driver.process.pid)
        try:
            yield driver
        finally:
            await driver.finish()

    def _load_argv(self, loads: tuple[str, ...], rounds: int) -> list[str]:
        first = max(self.history.first, self.today - timedelta(days=365))
        streams = min(self.opts.streams, len(self.tokens))
        return [*self._at(0), sys.executable, "-m", "bench.reader_load",
                "--config", str(self.config_path),
                "--user", USER, "--password-file", str(self.workdir / "password"),
                "--loads", ",".join(loads), "--first", first.isoformat(),
                "--last", self.today.isoformat(),
                "--month-first", (self.today - timedelta(days=30)).isoformat(),
                "--tokens", str(self.workdir / "tokens"), "--streams", str(streams),
                "--addresses", str(max(1, -(-streams // STREAMS_PER_ADDRESS))),
                "--rounds", str(rounds)]

    async def once(self, loads: tuple[str, ...], rounds: int) -> dict[str, Any]:
        """Loads run ``rounds`` times with no commands measured."""
        async with self._load(loads, rounds) as driver:
            await driver.done()
        self.memory.sample({c.name: c.process.pid for c in self.children})
        return driver.results()


def _unit_line(unit: str, pattern: str) -> str | None:
    """The group of ``pattern`` on a line of one of the project's systemd units or drop-ins."""
    found = re.search(pattern, (ROOT / "systemd" / unit).read_text(encoding="utf-8"),
                      re.MULTILINE)
    return found.group(1) if found else None


def unit_nice(unit: str) -> int:
    """The ``Nice=`` of one of the project's systemd units or drop-ins (0 without one)."""
    return int(_unit_line(unit, r"^Nice=(-?\d+)$") or 0)


def unit_chrt(unit: str) -> list[str] | None:
    """The ``chrt`` command a unit runs on its main process once it is up (None: none)."""
    command = _unit_line(unit, r"^ExecStartPost=[-+]*(\S*chrt .*) \$MAINPID$")
    return command.split() if command else None


def unit_class(unit: str, pid: int) -> None:
    """Give ``pid``'s main thread the scheduling class the unit gives its main process.
    As in the unit, a refusal (not root, or the kernel's) leaves it as it was: the run says
    (``policy``)."""
    chrt = unit_chrt(unit)
    if chrt is not None:
        subprocess.run([*chrt, str(pid)], capture_output=True, check=False)


def policy_of(pid: int) -> str:
    """The scheduling class of ``pid``'s main thread: "other", "rr", "idle"..."""
    policy = os.sched_getscheduler(pid) & ~os.SCHED_RESET_ON_FORK
    names = {os.SCHED_OTHER: "other", os.SCHED_RR: "rr", os.SCHED_FIFO: "fifo",
             os.SCHED_BATCH: "batch", os.SCHED_IDLE: "idle"}
    return names.get(policy, str(policy))


def _summary(values: list[float]) -> dict[str, float]:
    return {"p50": round(percentile(values, 50), 2), "p99": round(percentile(values, 99), 2),
            "max": round(max(values, default=0.0), 2), "n": len(values),
            "over_3s": sum(1 for v in values if v > GIVES_UP_MS)}


def _nth(loads: dict[str, Any], op: str, n: int = 0) -> float | None:
    """The duration of the n-th ``op`` of a phase's loads (None if there was none)."""
    times = loads.get(op, {}).get("s", [])
    return times[n] if len(times) > n else None


async def run(opts: Options, workdir: Path) -> dict[str, Any]:
    """The whole benchmark in ``workdir``; the result object."""
    history = await asyncio.to_thread(
        ensure, Spec(opts.days, opts.per_day, opts.counters, opts.seed), opts.cache,
        progress=lambda line: print(line, file=sys.stderr, flush=True))
    made = f"generated in {history.built_s} s" if history.built_s else "from the cache"
    print(f"history: {history.tickets} tickets, {history.events} events, {made}",
          file=sys.stderr, flush=True)
    rng = random.Random(opts.seed)
    pace = {"start": host_pace(workdir)}
    rig = Rig(workdir, history, opts)
    _warn_of_midnight(rig.config)
    phases: dict[str, dict[str, Any]] = {}
    try:
        await rig.start()
        await rig.open_hall()
        month = await rig.once(("month",), 4)
        warm = await rig.once(("report",), 1)
        for name, loads in PHASES.items():
            phases[name] = await rig.phase(loads, rng)
            print(f"phase {name}: {json.dumps(phases[name])}", file=sys.stderr, flush=True)
    finally:
        await rig.close()
    pace["end"] = host_pace(workdir)
    return _result(opts, rig, history, phases, month, warm) | {"host_pace": pace}


def _result(opts: Options, rig: Rig, history: History, phases: dict[str, dict[str, Any]],
            month: dict[str, Any], warm: dict[str, Any]) -> dict[str, Any]:
    memory = rig.memory.seen
    writer = memory.get("controller", {})
    reader = memory.get("web", writer)
    month_s = month.get("month", {}).get("s", [])
    return {
        "commands_ms": {name: phase["commands"] for name, phase in phases.items()},
        "year_report_s": _nth(phases["year_report"]["loads"], "report", 1),
        "year_report_first_s": _nth(warm, "report"),
        "year_csv_s": _nth(phases["year_report"]["loads"], "csv"),
        "month_report_s": round(statistics.median(month_s[1:]), 3) if month_s[1:] else None,
        "month_report_first_s": month_s[0] if month_s else None,
        "whatif_s": _nth(phases["whatif"]["loads"], "whatif"),
        "reader_peak_rss_mb": reader.get("peak_mb"),
        "reader_children_peak_rss_mb": reader.get("children_peak_mb"),
        "writer_rss_mb": writer.get("peak_mb"),
        "writer_rss_end_mb": writer.get("rss_end_mb"),
        "loads": {name: phase["loads"] for name, phase in phases.items()} | {
            "month": month, "warm": warm},
        **rig.facts, "counters": opts.counters, "waiting": opts.waiting,
        "streams": opts.streams, "rounds": opts.rounds,
        "history": {"days": opts.days, "per_day": opts.per_day, "tickets": history.tickets,
                    "events": history.events, "first": history.first.isoformat(),
                    "last": history.last.isoformat(),
                    "journal_mb": round(history.journal.stat().st_size / 2**20),
                    "generated_s": history.built_s},
        "machine": {**machine(), "memory_gb": _memory_gb(), "load_average": os.getloadavg(),
                    "shared": "2 cores shared with other work"},
    }


async def _main(opts: Options, workdir: Path) -> dict[str, Any]:
    """``run``, cancelled (and so cleaned up) by SIGTERM as by Ctrl-C."""
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    return await run(opts, workdir)


def _warn_of_midnight(config: HallConfig) -> None:
    """The hall's day ends at its midnight (tickets refused from 23:59, the day closed): a
    run across it measures that, not the readers."""
    now = datetime.now(ZoneInfo(config.hall.timezone))
    left = (datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), now.tzinfo)
            - now).total_seconds() / 60
    if left < 60:
        print(f"warning: the hall's day ({config.hall.timezone}) ends in {left:.0f} min; a "
              "run across its midnight measures the day's close", file=sys.stderr, flush=True)


def _memory_gb() -> float:
    for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 2**20, 1)
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.readers", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    defaults = Options()
    for name in ("days", "per_day", "counters", "waiting", "streams", "rounds", "seed"):
        parser.add_argument(f"--{name.replace('_', '-')}", type=int,
                            default=getattr(defaults, name))
    parser.add_argument("--web", choices=("auto", "service", "controller"), default="auto")
    parser.add_argument("--workdir", type=Path, help="keep the run's files (logs) here")
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    args = parser.parse_args()
    opts = replace(defaults, **{k: v for k, v in vars(args).items()
                                if k not in ("json", "workdir")})
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
        result = asyncio.run(_main(opts, args.workdir))
    else:
        with tempfile.TemporaryDirectory(prefix="lobby-readers-") as tmp:
            result = asyncio.run(_main(opts, Path(tmp)))
    if not args.json:
        for key, value in result.items():
            print(f"{key:>22}: {value}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
