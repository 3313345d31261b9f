"""The readers' load for bench.readers, over HTTP from a process of its own (so the process
measuring the hall's commands stays quiet): the manager signs in and loops year reports with
their CSV export, or what-ifs; residents' phones hold status-page streams open, spread over
loopback addresses as phones behind many addresses would be.

``python -m bench.reader_load --config HALL.toml --user NAME --password-file FILE
--loads report,csv,whatif,streams,month [--first D --last D] [--tokens FILE --streams N
--addresses K] [--rounds N]``

Prints one JSON line per finished operation (``{"op": "report", "s": 1.8, ...}``), the line
``ready`` once every stream has its answer (at once without streams), and, after stdin
closes (or ``--rounds`` rounds of every loop), ``{"summary": ...}``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import resource
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from hallconfig import load_hall_config

ROOT = Path(__file__).resolve().parents[1]
LOADS = ("report", "csv", "whatif", "streams", "month")
AT_LEAST = {"report": 2}  # the first year report may fill the reader's cache: a second one
# shows a report as the manager gets it from then on; every other load at least once
READY_S = 600.0  # for the streams to get their answers
CHUNK = 1 << 16
CONNECTING = 100  # streams opening at once


@dataclass
class Streams:
    """What the residents' streams saw."""

    statuses: Counter[int] = field(default_factory=Counter)
    open: int = 0
    events: int = 0
    bytes: int = 0
    ended_early: int = 0
    errors: Counter[str] = field(default_factory=Counter)

    def summary(self) -> dict[str, Any]:
        return {"statuses": {str(k): v for k, v in self.statuses.items()},
                "open_at_end": self.open, "events": self.events, "bytes": self.bytes,
                "ended_early": self.ended_early, "errors": dict(self.errors)}


def emit(line: dict[str, Any] | str) -> None:
    print(line if isinstance(line, str) else json.dumps(line), flush=True)


class Load:
    """One manager session and the residents' phones."""

    def __init__(self, args: argparse.Namespace) -> None:
        config = load_hall_config(args.config)
        self.manager = f"http://{config.web.host}:{config.web.port}"
        self.status = f"http://{config.status_page.host}:{config.status_page.port}"
        self.args = args
        self.range = {"from": args.first, "to": args.last}
        self.stop = asyncio.Event()
        self.streams = Streams()
        self.errors: Counter[str] = Counter()

    async def run(self) -> None:
        loads = set(self.args.loads.split(","))
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=30)
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                         timeout=timeout) as session:
            await self._sign_in(session)
            loops = []
            if loads & {"report", "csv"}:
                loops.append(self._reports(session, "report" in loads, "csv" in loads))
            if "whatif" in loads:
                loops.append(self._whatifs(session))
            if "month" in loads:
                loops.append(self._months(session))
            phones = asyncio.create_task(self._phones()) if "streams" in loads else None
            if phones is None:
                emit("ready")
            tasks = [asyncio.create_task(loop) for loop in loops]
            if self.args.rounds:
                await asyncio.gather(*tasks)
                self.stop.set()
            else:
                await self.stop.wait()
            for task in [*tasks, *([phones] if phones else [])]:
                task.cancel()
            await asyncio.gather(*tasks, *([phones] if phones else []),
                                 return_exceptions=True)
        emit({"summary": {"streams": self.streams.summary(), "errors": dict(self.errors)}})

    async def _sign_in(self, session: aiohttp.ClientSession) -> None:
        password = Path(self.args.password_file).read_text(encoding="utf-8").strip()
        async with session.post(f"{self.manager}/api/login",
                                json={"name": self.args.user, "password": password},
                                headers={"Origin": self.manager}) as response:
            if response.status != 200:
                raise SystemExit(f"sign-in refused: {response.status} {await response.text()}")

    def _more(self, done: int) -> bool:
        return not self.stop.is_set() and (not self.args.rounds or done < self.args.rounds)

    async def _timed(self, session: aiohttp.ClientSession, op: str, url: str,
                     params: dict[str, str] | None = None) -> dict[str, Any]:
        """GET ``url`` to its last byte, counting bytes and lines, never keeping the body."""
        began = time.perf_counter()
        first = None
        size = lines = 0
        async with session.get(url, params=params) as response:
            async for chunk in response.content.iter_chunked(CHUNK):
                first = first or time.perf_counter()
                size += len(chunk)
                lines += chunk.count(b"\n")
            status = response.status
        done = time.perf_counter()
        line = {"op": op, "s": round(done - began, 3), "status": status, "bytes": size,
                "lines": lines, "first_byte_s": round((first or done) - began, 3)}
        if status != 200:
            self.errors[f"{op} {status}"] += 1
        emit(line)
        return line

    async def _reports(self, session: aiohttp.ClientSession, report: bool, csv: bool) -> None:
        """The manager opens the year's report, then exports its tickets: again and again."""
        done = 0
        while self._more(done):
            if report:
                await self._timed(session, "report", f"{self.manager}/reports", self.range)
            if csv:
                await self._timed(session, "csv", f"{self.manager}/reports/tickets.csv",
                                  self.range)
            done += 1

    async def _months(self, session: aiohttp.ClientSession) -> None:
        done = 0
        while self._more(done):
            await self._timed(session, "month", f"{self.manager}/reports",
                              {"from": self.args.month_first, "to": self.args.last})
            done += 1

    async def _whatifs(self, session: aiohttp.ClientSession) -> None:
        done = 0
        while self._more(done):
            line = await self._timed(session, "whatif", f"{self.manager}/api/whatif")
            if line["status"] == 429:  # one at a time, says the service: ask again shortly
                await asyncio.sleep(0.5)
                continue
            done += 1

    async def _phones(self) -> None:
        """``--streams`` status pages following their tickets, over ``--addresses`` loopback
        addresses; ``ready`` once each has its answer."""
        tokens = Path(self.args.tokens).read_text(encoding="utf-8").split()
        count = self.args.streams
        addresses = [f"127.0.{1 + n // 250}.{1 + n % 250}" for n in range(self.args.addresses)]
        sessions = [aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(local_addr=(a, 0), limit=0),
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=30)) for a in addresses]
        answered = asyncio.Semaphore(0)
        gate = asyncio.Semaphore(CONNECTING)
        tasks = [asyncio.create_task(self._phone(sessions[n % len(sessions)],
                                                 tokens[n % len(tokens)], gate, answered))
                 for n in range(count)]
        try:
            for _ in range(count):
                await answered.acquire()
            emit("ready")
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for session in sessions:
                await session.close()

    async def _phone(self, session: aiohttp.ClientSession, token: str,
                     gate: asyncio.Semaphore, answered: asyncio.Semaphore) -> None:
        stats = self.streams
        told = False
        try:
            async with gate:
                response = await session.get(f"{self.status}/t/{token}/events")
            async with response:
                stats.statuses[response.status] += 1
                if response.status != 200:
                    return
                chunk = await response.content.readany()
                stats.open += 1
                answered.release()
                told = True
                while chunk:
                    stats.bytes += len(chunk)
                    stats.events += chunk.count(b"\n\n")
                    chunk = await response.content.readany()
                stats.open -= 1
                stats.ended_early += 1
        except (aiohttp.ClientError, OSError) as exc:
            stats.errors[type(exc).__name__] += 1
        finally:
            if not told:
                answered.release()


class LoadProcess:
    """This program as a child of bench.readers: started, read line by line, told to stop by
    closing its stdin."""

    def __init__(self, loads: tuple[str, ...]) -> None:
        self.loads = loads
        self.ops: list[dict[str, Any]] = []
        self.summary: dict[str, Any] = {}
        self.process: asyncio.subprocess.Process | None = None
        self._ready = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None

    async def start(self, argv: list[str], env: dict[str, str]) -> None:
        self.process = await asyncio.create_subprocess_exec(
            *argv, cwd=ROOT, env=env, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=None)
        self._reader = asyncio.create_task(self._read())
        ready = asyncio.create_task(self._ready.wait())
        await asyncio.wait([ready, self._reader], timeout=READY_S,
                           return_when=asyncio.FIRST_COMPLETED)
        if not self._ready.is_set():
            ready.cancel()
            raise RuntimeError(f"the readers' load was not ready within {READY_S} s or "
                               f"ended: {self.summary}")

    async def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        async for raw in self.process.stdout:
            line = raw.decode().strip()
            if line == "ready":
                self._ready.set()
            elif line.startswith("{"):
                item = json.loads(line)
                if "summary" in item:
                    self.summary = item["summary"]
                else:
                    self.ops.append(item)

    def satisfied(self) -> bool:
        """Every looping load has succeeded often enough (``AT_LEAST``, else once): a
        what-if still running for an earlier phase's cancelled request answers 429."""
        done = Counter(op["op"] for op in self.ops if op["status"] == 200)
        return all(done[load] >= AT_LEAST.get(load, 1) for load in self.loads
                   if load != "streams")

    async def done(self) -> None:
        if self._reader is not None:
            await self._reader

    async def finish(self) -> None:
        if self.process is None:
            return
        if self.process.stdin is not None:
            self.process.stdin.close()
        await self.done()
        await self.process.wait()
        if self.process.returncode:
            raise RuntimeError(f"the readers' load failed ({self.process.returncode})")

    def results(self) -> dict[str, Any]:
        """Per load: the seconds of each answered (200) request, every status counted, and
        the first answer's size and time to its first byte."""
        found: dict[str, Any] = {}
        for op in self.ops:
            entry = found.setdefault(op["op"], {"s": [], "statuses": {}})
            status = str(op["status"])
            entry["statuses"][status] = entry["statuses"].get(status, 0) + 1
            if op["status"] == 200:
                entry["s"].append(op["s"])
                entry.setdefault("bytes", op["bytes"])
                entry.setdefault("lines", op["lines"])
                entry.setdefault("first_byte_s", op["first_byte_s"])
        if "streams" in self.loads:
            found["streams"] = self.summary.get("streams", {})
        if self.summary.get("errors"):
            found["errors"] = self.summary["errors"]
        return found


async def main_async(args: argparse.Namespace) -> None:
    load = Load(args)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    async def until_stdin_closes() -> None:
        while await reader.read(CHUNK):
            pass
        load.stop.set()

    watcher = asyncio.create_task(until_stdin_closes())
    try:
        await load.run()
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.reader_load", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password-file", required=True)
    parser.add_argument("--loads", required=True, help=f"comma-separated: {', '.join(LOADS)}")
    parser.add_argument("--first", help="the report range's first day")
    parser.add_argument("--month-first", help="the month report's first day")
    parser.add_argument("--last", help="the report range's last day")
    parser.add_argument("--tokens", help="file of status tokens, one a line")
    parser.add_argument("--streams", type=int, default=0)
    parser.add_argument("--addresses", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=0, help="0: until stdin closes")
    args = parser.parse_args()
    unknown = set(args.loads.split(",")) - set(LOADS)
    if unknown:
        parser.error(f"unknown loads: {', '.join(sorted(unknown))}")
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
