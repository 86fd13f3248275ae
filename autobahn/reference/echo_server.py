#!/usr/bin/env python3
"""Reference echo server for the Autobahn harness (a known-good peer).

Uses the `websockets` package (asyncio API). Usage:

    echo_server.py 127.0.0.1:PORT [--no-deflate]

Echoes every text/binary message back unchanged. With --no-deflate it refuses
permessage-deflate, which is what the 12.*/13.* cases see from an
implementation without compression (they then report UNIMPLEMENTED).

This file is a fixture of the harness only: it proves that kosoku, `run` and
`summarize.py` work, independently of the crate under test.
"""

import argparse
import asyncio
import os
import signal

# websockets >= 14 refuses messages of more than 4096 fragments by default (a
# DoS guard); 9.3.1 / 9.4.1 send 4 MiB in 64-byte fragments (65536 of them).
os.environ.setdefault("WEBSOCKETS_MAX_FRAGMENTS", str(1 << 20))

from websockets.asyncio.server import serve
from websockets.exceptions import WebSocketException


async def echo(ws):
    try:
        async for message in ws:
            await ws.send(message)
    except WebSocketException:
        pass


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("address", help="HOST:PORT to listen on")
    parser.add_argument("--no-deflate", action="store_true")
    args = parser.parse_args()
    host, _, port = args.address.rpartition(":")

    # The harness stops the server with SIGTERM once kosoku is done; a
    # graceful close would wait for connections the fuzzer abandoned.
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, os._exit, 0)

    async with serve(
        echo,
        host,
        int(port),
        server_header="websockets-reference",
        compression=None if args.no_deflate else "deflate",
        max_size=2**25,  # 9.1.6 / 9.2.6 send 16 MiB messages
        max_queue=1,
        ping_interval=None,
    ) as server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
