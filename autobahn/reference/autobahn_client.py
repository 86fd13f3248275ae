#!/usr/bin/env python3
"""Reference Autobahn client for the harness (a known-good peer).

Uses the `websockets` package (asyncio API). Usage:

    autobahn_client.py ws://127.0.0.1:PORT [--agent NAME] [--no-deflate]

Speaks the Autobahn fuzzingserver protocol: GET /getCaseCount, then for each
case N GET /runCase?case=N&agent=NAME echoing every message until the server
closes, then GET /updateReports?agent=NAME. Exits non-zero if a step other
than a single case's echo loop fails.

This file is a fixture of the harness only: it proves that kosoku, `run` and
`summarize.py` work, independently of the crate under test.
"""

import argparse
import asyncio
import os
import sys

# websockets >= 14 refuses messages of more than 4096 fragments by default (a
# DoS guard); 9.3.1 / 9.4.1 send 4 MiB in 64-byte fragments (65536 of them).
os.environ.setdefault("WEBSOCKETS_MAX_FRAGMENTS", str(1 << 20))

from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException


def options(no_deflate: bool) -> dict:
    return {
        "compression": None if no_deflate else "deflate",
        "max_size": 2**25,
        "max_queue": 1,
        "ping_interval": None,
        "proxy": None,  # never route the loopback fuzzer through an env proxy
        "user_agent_header": "websockets-reference",
    }


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url", help="fuzzing server, e.g. ws://127.0.0.1:9001")
    parser.add_argument("--agent", default="websockets-reference")
    parser.add_argument("--no-deflate", action="store_true")
    args = parser.parse_args()
    base = args.url.rstrip("/")
    opts = options(args.no_deflate)

    async with connect(f"{base}/getCaseCount", **opts) as ws:
        count = int(await ws.recv())
    print(f"{count} cases", file=sys.stderr)

    for case in range(1, count + 1):
        try:
            async with connect(
                f"{base}/runCase?case={case}&agent={args.agent}", **opts
            ) as ws:
                async for message in ws:
                    await ws.send(message)
        except (WebSocketException, OSError):
            # The fuzzer fails connections on purpose; that is the case's
            # verdict to record, not ours.
            pass

    async with connect(f"{base}/updateReports?agent={args.agent}", **opts):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
