// Node `ws` client of our echo servers: the interop scenarios, each reply checked by content.
//
//   node client.mjs ws://127.0.0.1:PORT
//
// Scenarios: sizes (text with multi-byte UTF-8 and binary, 0 B to 1 MiB), fragments (sent by
// ws as several frames, a code point split between two, a Ping among them), ping (the Pong
// carries the Ping's payload), close (we close with 4001 "bye"; the echo server answers 4001),
// concurrency (100 connections x 100 distinct messages). Prints one line per scenario and exits
// with status 1 at the first mismatch.
import { WebSocket } from 'ws';

const base = process.argv[2]?.replace(/\/$/, '');
if (!base) {
  console.error('usage: node client.mjs ws://HOST:PORT');
  process.exit(2);
}
const TIMEOUT_MS = 60_000;
const SIZES = [0, 125, 126, 65535, 65536, 1 << 20];

class Mismatch extends Error {}

/** A connection whose events are awaited one at a time, in order. */
class Peer {
  static open(path) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${base}${path}`, { maxPayload: 64 << 20 });
      const peer = new Peer(ws, path);
      ws.once('open', () => resolve(peer));
      ws.once('error', (error) => reject(new Mismatch(`${path}: connect: ${error.message}`)));
    });
  }

  constructor(ws, path) {
    this.ws = ws;
    this.path = path;
    this.events = [];
    this.waiters = [];
    ws.on('message', (data, isBinary) => this.push({ type: isBinary ? 'binary' : 'text', data }));
    ws.on('ping', (data) => this.push({ type: 'ping', data }));
    ws.on('pong', (data) => this.push({ type: 'pong', data }));
    ws.on('close', (code, reason) => this.push({ type: 'close', code, reason: reason.toString() }));
    ws.on('error', (error) => this.push({ type: 'error', error }));
  }

  push(event) {
    const waiter = this.waiters.shift();
    if (waiter) waiter(event);
    else this.events.push(event);
  }

  next(what) {
    if (this.events.length > 0) return Promise.resolve(this.events.shift());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Mismatch(`${this.path}: timed out waiting for ${what}`)),
        TIMEOUT_MS,
      );
      this.waiters.push((event) => {
        clearTimeout(timer);
        resolve(event);
      });
    });
  }

  /** The next event must be a `type` ('text', 'binary', 'pong') event carrying `bytes`. */
  async expect(type, bytes, label) {
    const event = await this.next(`${type} ${label}`);
    if (event.type !== type) {
      throw new Mismatch(`${this.path}: ${label}: expected ${type}, got ${describe(event)}`);
    }
    const at = firstDifference(bytes, event.data);
    if (at !== null) {
      throw new Mismatch(
        `${this.path}: ${label}: ${type} of ${event.data.length} B differs from the ` +
          `${bytes.length} B expected at byte ${at}`,
      );
    }
  }

  /** Closes with `code` and `reason`; the echo server must answer with the same code. */
  async close(code, reason) {
    this.ws.close(code, reason);
    const event = await this.next('close');
    if (event.type !== 'close' || event.code !== code) {
      throw new Mismatch(`${this.path}: closed with ${code}, got ${describe(event)}`);
    }
    return event;
  }
}

function describe(event) {
  switch (event.type) {
    case 'close':
      return `close ${event.code} ${JSON.stringify(event.reason)}`;
    case 'error':
      return `error ${event.error.message}`;
    default:
      return `${event.type} of ${event.data.length} B`;
  }
}

/** The index of the first byte where two buffers differ (or the shorter length), or null. */
function firstDifference(expected, got) {
  const n = Math.min(expected.length, got.length);
  for (let i = 0; i < n; i++) if (expected[i] !== got[i]) return i;
  return expected.length === got.length ? null : n;
}

/** Exactly `len` bytes of UTF-8 mixing 1- to 4-byte characters (as interop_client.rs makes). */
function textOf(len, seed) {
  const chars = [...'héllo wörld — ✓ € 😀 ñ 日本語 '];
  const parts = [];
  let size = 0;
  for (let i = seed; size < len; i++) {
    let c = chars[i % chars.length];
    if (size + Buffer.byteLength(c) > len) c = 'x';
    parts.push(c);
    size += Buffer.byteLength(c);
  }
  return parts.join('');
}

/** `len` bytes covering every byte value, varied by `seed`. */
function binaryOf(len, seed) {
  const data = Buffer.alloc(len);
  for (let i = 0; i < len; i++) data[i] = ((i * 131) ^ (i >> 8) ^ (seed * 7)) & 0xff;
  return data;
}

// ------------------------------------------------------------------------------- scenarios

async function sizes() {
  const peer = await Peer.open('/sizes');
  for (const [seed, len] of SIZES.entries()) {
    const text = Buffer.from(textOf(len, seed));
    if (text.length !== len) throw new Error(`textOf made ${text.length} B, not ${len}`);
    peer.ws.send(text, { binary: false });
    await peer.expect('text', text, `text of ${len} B`);
    const data = binaryOf(len, seed);
    peer.ws.send(data, { binary: true });
    await peer.expect('binary', data, `binary of ${len} B`);
  }
  await peer.close(1000, '');
}

async function fragments() {
  const peer = await Peer.open('/fragments');
  // Text: "ä" and "✓" split between frames, an empty frame, a Ping between two frames.
  const parts = [
    Buffer.from([0x66, 0x72, 0xc3]),
    Buffer.from([0xa4, 0x67]),
    Buffer.alloc(0),
    Buffer.from([0x6d, 0x65, 0x6e, 0x74, 0x20, 0xe2, 0x9c]),
    Buffer.from([0x93, 0x20, 0xf0, 0x9f, 0x98, 0x80]),
  ];
  parts.forEach((part, i) => {
    peer.ws.send(part, { binary: false, fin: i === parts.length - 1 });
    if (i === 1) peer.ws.ping('between fragments');
  });
  await peer.expect('pong', Buffer.from('between fragments'), 'pong between fragments');
  await peer.expect('text', Buffer.from('frägment ✓ 😀'), 'fragmented text');
  // 200 000 B of text cut every 10 000 bytes, mid-character where a cut falls inside one.
  const long = Buffer.from(textOf(200_000, 5));
  for (let offset = 0; offset < long.length; offset += 10_000) {
    peer.ws.send(long.subarray(offset, offset + 10_000), {
      binary: false,
      fin: offset + 10_000 >= long.length,
    });
  }
  await peer.expect('text', long, 'text of 200 000 B in 20 fragments');
  // Binary: 1 MiB in 16 fragments of 64 KiB, then 100 fragments of 1 byte.
  const big = binaryOf(1 << 20, 7);
  for (let i = 0; i < 16; i++) {
    peer.ws.send(big.subarray(i << 16, (i + 1) << 16), { binary: true, fin: i === 15 });
  }
  await peer.expect('binary', big, '1 MiB in 16 fragments');
  const small = binaryOf(100, 9);
  for (let i = 0; i < 100; i++) {
    peer.ws.send(small.subarray(i, i + 1), { binary: true, fin: i === 99 });
  }
  await peer.expect('binary', small, '100 fragments of 1 B');
  await peer.close(1000, '');
}

async function ping() {
  const peer = await Peer.open('/ping');
  for (const payload of [Buffer.alloc(0), Buffer.from('ping ✓ ü'), binaryOf(125, 11)]) {
    peer.ws.ping(payload);
    await peer.expect('pong', payload, `pong to a ping of ${payload.length} B`);
  }
  peer.ws.send('after pings');
  await peer.expect('text', Buffer.from('after pings'), 'echo after pings');
  await peer.close(1000, '');
}

async function close() {
  const peer = await Peer.open('/close');
  peer.ws.send('before close');
  await peer.expect('text', Buffer.from('before close'), 'echo before close');
  await peer.close(4001, 'bye');
}

async function concurrency() {
  const run = async (c) => {
    const peer = await Peer.open(`/concurrent/${c}`);
    const sent = [];
    for (let i = 0; i < 100; i++) {
      const filler = (c * 31 + i * 17) % 300;
      if (i % 2 === 0) {
        const text = Buffer.from(`conn ${c} msg ${i} ✓ ${textOf(filler, c + i)}`);
        peer.ws.send(text, { binary: false });
        sent.push(['text', text]);
      } else {
        const data = Buffer.concat([Buffer.from(`conn ${c} msg ${i} `), binaryOf(filler, c * i)]);
        peer.ws.send(data, { binary: true });
        sent.push(['binary', data]);
      }
    }
    for (const [i, [type, bytes]] of sent.entries()) {
      await peer.expect(type, bytes, `message ${i}`);
    }
    await peer.close(1000, '');
  };
  await Promise.all(Array.from({ length: 100 }, (_, c) => run(c)));
}

const scenarios = { sizes, fragments, ping, close, concurrency };
for (const [name, scenario] of Object.entries(scenarios)) {
  const start = performance.now();
  try {
    await scenario();
  } catch (error) {
    console.log(`FAIL node ${name}: ${error instanceof Mismatch ? error.message : error.stack}`);
    process.exit(1);
  }
  console.log(`ok   node ${name} (${((performance.now() - start) / 1000).toFixed(2)} s)`);
}
process.exit(0);
