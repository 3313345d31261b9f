"""The city overview on the command line or as a page:

    python -m city --broker HOST:PORT --credentials city/credentials.toml [--service A]
                   [--once] [--json] [--web 127.0.0.1:8090]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

from city.overview import OVERVIEW_USER, CityOverview, entry_json, ranking, table_text
from city.page import serve
from protocol.link import BrokerSettings


def _settings(args: argparse.Namespace) -> BrokerSettings:
    host, _, port = args.broker.rpartition(":")
    password = args.password
    if args.credentials is not None:
        from broker_config.credentials import password_for
        password = password_for(args.credentials, args.username)
    return BrokerSettings(host=host or "127.0.0.1", port=int(port), username=args.username,
                          password=password, tls_ca=args.tls_ca)


def main(argv: list[str] | None = None) -> int:
    """Command line entry; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m city", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--broker", required=True, help="the city broker, HOST:PORT")
    parser.add_argument("--username", default=OVERVIEW_USER)
    parser.add_argument("--password", help="(or --credentials)")
    parser.add_argument("--credentials", type=Path, help="the city's credentials.toml")
    parser.add_argument("--tls-ca", help="CA file, to reach the broker over TLS")
    parser.add_argument("--service", help="rank by this service's estimated wait")
    parser.add_argument("--once", action="store_true", help="print once and exit")
    parser.add_argument("--json", action="store_true", help="print JSON, not a table")
    parser.add_argument("--web", help="serve the overview page on HOST:PORT")
    args = parser.parse_args(argv)
    try:
        overview = CityOverview(_settings(args))
        overview.start()
    except (ValueError, OSError, ConnectionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        if args.web:
            host, _, port = args.web.rpartition(":")
            asyncio.run(serve(overview, host or "127.0.0.1", int(port)))
            return 0
        while True:
            overview.settle()
            entries = overview.halls()
            if args.json:
                print(json.dumps([entry_json(e) for e in ranking(entries, args.service)],
                                 ensure_ascii=False), flush=True)
            else:
                print(table_text(entries, args.service), flush=True)
            if args.once:
                return 0
            time.sleep(5.0)
    except KeyboardInterrupt:
        return 0
    finally:
        overview.stop()



if __name__ == "__main__":
    sys.exit(main())
