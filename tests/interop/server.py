"""Echo server on Python's `websockets`, the peer of examples/interop_client.rs (see its doc
comment for the protocol): echoes text and binary; "close-me" closes with 4001 "bye"; "frag-me"
sends a fragmented text message (a Ping between its fragments) and a fragmented binary message;
"close-of:PATH" answers the code and reason of the Close received on the last connection to PATH.

    .venv/bin/python server.py PORT
"""

import asyncio
import sys

from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

FRAG_TEXT_PARTS = [b"fr\xc3", b"\xa4g", b"", b"ment \xe2\x9c", b"\x93 \xf0\x9f\x98\x80"]
FRAG_BINARY_SIZES = [1, 0, 125, 126, 1000]

# Close frames received, by request path: (code, reason).
closes: dict[str, tuple[int, str]] = {}


async def text_fragments(ws):
    """The text fragments of "frag-me", with a Ping sent after the first."""
    for i, part in enumerate(FRAG_TEXT_PARTS):
        yield part
        if i == 0:
            await ws.ping(b"mid-message")


def binary_fragments():
    offset = 0
    for size in FRAG_BINARY_SIZES:
        yield bytes((offset + j) % 251 for j in range(size))
        offset += size


async def handler(ws):
    path = ws.request.path
    closes.pop(path, None)
    try:
        async for message in ws:
            if isinstance(message, bytes):
                await ws.send(message)
            elif message == "close-me":
                await ws.close(4001, "bye")
            elif message == "frag-me":
                # websockets ends a fragmented message with an empty final frame.
                await ws.send(text_fragments(ws), text=True)
                await ws.send(binary_fragments())
            elif message.startswith("close-of:"):
                target = message[len("close-of:"):]
                for _ in range(300):
                    if target in closes:
                        break
                    await asyncio.sleep(0.01)
                close = closes.get(target)
                await ws.send(f"{close[0]} {close[1]}" if close else "none")
            else:
                await ws.send(message)
    except ConnectionClosed:
        pass  # a close code other than 1000 or 1001 (4001, 4002) ends the loop this way
    finally:
        received = ws.protocol.close_rcvd
        if received is not None:
            closes[path] = (received.code, received.reason)


async def main(port: int) -> None:
    async with serve(
        handler, "127.0.0.1", port, max_size=64 << 20, ping_interval=None
    ) as server:
        print(f"python websockets server listening on {port}", flush=True)
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
