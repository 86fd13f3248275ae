"""Python `websockets` client of our echo servers: the interop scenarios, each reply checked by
content.

    .venv/bin/python client.py ws://127.0.0.1:PORT

Scenarios: sizes (text with multi-byte UTF-8 and binary, 0 B to 1 MiB), fragments (sent by
websockets as several frames, a code point split between two, a Ping among them), ping (the
Pong carries the Ping's payload), close (we close with 4001 "bye"; the echo server answers
4001), concurrency (100 connections x 100 distinct messages). Prints one line per scenario and
exits with status 1 at the first mismatch.
"""

import asyncio
import sys
import time

from websockets.asyncio.client import ClientConnection, connect

TIMEOUT = 60
SIZES = [0, 125, 126, 65535, 65536, 1 << 20]


class Mismatch(Exception):
    pass


class RecordingConnection(ClientConnection):
    """Records the payload of every Pong received, so it can be compared with the Ping's."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pongs: list[bytes] = []

    def acknowledge_pings(self, data: bytes) -> None:
        self.pongs.append(data)
        super().acknowledge_pings(data)


class Peer:
    def __init__(self, base: str, path: str):
        self.url = base + path
        self.path = path

    async def __aenter__(self) -> "Peer":
        self.cm = connect(
            self.url,
            max_size=64 << 20,
            ping_interval=None,
            create_connection=RecordingConnection,
        )
        self.ws = await self.cm.__aenter__()
        return self

    async def __aexit__(self, *exc):
        return await self.cm.__aexit__(*exc)

    async def expect(self, expected: str | bytes, label: str) -> None:
        """The next message must be `expected`: str for text, bytes for binary."""
        got = await asyncio.wait_for(self.ws.recv(), TIMEOUT)
        if type(got) is not type(expected):
            raise Mismatch(
                f"{self.path}: {label}: expected {kind(expected)}, got {kind(got)} of {len(got)}"
            )
        if got != expected:
            a = expected.encode() if isinstance(expected, str) else expected
            b = got.encode() if isinstance(got, str) else got
            at = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
            raise Mismatch(
                f"{self.path}: {label}: {kind(got)} of {len(b)} B differs from the "
                f"{len(a)} B expected at byte {at}"
            )

    async def expect_pong(self, waiter, payload: bytes, label: str) -> None:
        """The Ping's waiter resolves (websockets needs a Pong with the same payload), and the
        last Pong received carries exactly `payload`."""
        try:
            await asyncio.wait_for(waiter, TIMEOUT)
        except TimeoutError:
            raise Mismatch(f"{self.path}: {label}: no Pong; Pongs received: {self.ws.pongs!r}")
        if not self.ws.pongs or self.ws.pongs[-1] != payload:
            raise Mismatch(f"{self.path}: {label}: Pongs received {self.ws.pongs!r}")

    async def close(self, code: int, reason: str) -> None:
        """Closes with `code` and `reason`; the echo server must answer with the same code."""
        await asyncio.wait_for(self.ws.close(code, reason), TIMEOUT)
        received = self.ws.protocol.close_rcvd
        if received is None or received.code != code:
            raise Mismatch(f"{self.path}: closed with {code}, received {received}")


def kind(message) -> str:
    return "text" if isinstance(message, str) else "binary"


def text_of(length: int, seed: int) -> str:
    """Exactly `length` bytes of UTF-8 mixing 1- to 4-byte characters."""
    chars = "héllo wörld — ✓ € 😀 ñ 日本語 "
    out, size, i = [], 0, seed
    while size < length:
        c = chars[i % len(chars)]
        if size + len(c.encode()) > length:
            c = "x"
        out.append(c)
        size += len(c.encode())
        i += 1
    return "".join(out)


def binary_of(length: int, seed: int) -> bytes:
    """`length` bytes covering every byte value, varied by `seed`."""
    return bytes(((i * 131) ^ (i >> 8) ^ (seed * 7)) & 0xFF for i in range(length))


# ------------------------------------------------------------------------------- scenarios


async def sizes(base: str) -> None:
    async with Peer(base, "/sizes") as peer:
        for seed, length in enumerate(SIZES):
            text = text_of(length, seed)
            assert len(text.encode()) == length
            await peer.ws.send(text)
            await peer.expect(text, f"text of {length} B")
            data = binary_of(length, seed)
            await peer.ws.send(data)
            await peer.expect(data, f"binary of {length} B")
        await peer.close(1000, "")


async def fragments(base: str) -> None:
    async with Peer(base, "/fragments") as peer:
        # "ä" and "✓" split between frames, an empty frame, a Ping after the second frame.
        parts = [b"fr\xc3", b"\xa4g", b"", b"ment \xe2\x9c", b"\x93 \xf0\x9f\x98\x80"]
        waiters = []

        async def with_ping():
            for i, part in enumerate(parts):
                yield part
                if i == 1:
                    waiters.append(await peer.ws.ping(b"between fragments"))

        await peer.ws.send(with_ping(), text=True)
        await peer.expect_pong(waiters[0], b"between fragments", "pong between fragments")
        await peer.expect("frägment ✓ 😀", "fragmented text")
        # 200 000 B of text cut every 10 000 bytes, mid-character where a cut falls inside one.
        long = text_of(200_000, 5).encode()
        await peer.ws.send([long[i : i + 10_000] for i in range(0, len(long), 10_000)], text=True)
        await peer.expect(long.decode(), "text of 200 000 B in 20 fragments")
        # Binary: 1 MiB in 16 fragments of 64 KiB, then 100 fragments of 1 byte.
        big = binary_of(1 << 20, 7)
        await peer.ws.send([big[i << 16 : (i + 1) << 16] for i in range(16)])
        await peer.expect(big, "1 MiB in 16 fragments")
        small = binary_of(100, 9)
        await peer.ws.send([small[i : i + 1] for i in range(100)])
        await peer.expect(small, "100 fragments of 1 B")
        await peer.close(1000, "")


async def ping(base: str) -> None:
    async with Peer(base, "/ping") as peer:
        for payload in [b"", "ping ✓ ü".encode(), binary_of(125, 11)]:
            waiter = await peer.ws.ping(payload)
            await peer.expect_pong(waiter, payload, f"pong to a ping of {len(payload)} B")
        await peer.ws.send("after pings")
        await peer.expect("after pings", "echo after pings")
        await peer.close(1000, "")


async def close(base: str) -> None:
    async with Peer(base, "/close") as peer:
        await peer.ws.send("before close")
        await peer.expect("before close", "echo before close")
        await peer.close(4001, "bye")


async def concurrency(base: str) -> None:
    async def run(c: int) -> None:
        async with Peer(base, f"/concurrent/{c}") as peer:
            sent = []
            for i in range(100):
                filler = (c * 31 + i * 17) % 300
                if i % 2 == 0:
                    message = f"conn {c} msg {i} ✓ {text_of(filler, c + i)}"
                else:
                    message = f"conn {c} msg {i} ".encode() + binary_of(filler, c * i)
                await peer.ws.send(message)
                sent.append(message)
            for i, message in enumerate(sent):
                await peer.expect(message, f"message {i}")
            await peer.close(1000, "")

    await asyncio.gather(*(run(c) for c in range(100)))


async def main(base: str) -> int:
    for scenario in [sizes, fragments, ping, close, concurrency]:
        start = time.monotonic()
        try:
            await scenario(base)
        except Mismatch as error:
            print(f"FAIL python {scenario.__name__}: {error}", flush=True)
            return 1
        except Exception as error:  # noqa: BLE001 - any other failure is a failed scenario too
            print(f"FAIL python {scenario.__name__}: {type(error).__name__}: {error}", flush=True)
            return 1
        print(f"ok   python {scenario.__name__} ({time.monotonic() - start:.2f} s)", flush=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: client.py ws://HOST:PORT", file=sys.stderr)
        sys.exit(2)
    sys.exit(asyncio.run(main(sys.argv[1].rstrip("/"))))
