// The browser's own WebSocket against examples/echo_server: binary and text messages, up to
// 1 MiB, come back exactly, compared byte for byte in the page.
//
// Needs ECHO_URL: ws://host:port of a running echo_server (tests/browser/run).
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';

import { env, launch } from './lib.mjs';

const ECHO_URL = env('ECHO_URL');

// The page the test runs in comes from a loopback origin, like an application's would. A page
// from about:blank or a data: URL counts as public to Chromium's Local Network Access checks
// (Chromium 14x and later), which then block its ws:// connection to 127.0.0.1
// (net::ERR_BLOCKED_BY_LOCAL_NETWORK_ACCESS_CHECKS) unless the user grants a permission.
let pageServer;
let pageUrl;
let context;
before(async () => {
  pageServer = http.createServer((request, response) => {
    response.setHeader('content-type', 'text/html; charset=utf-8');
    response.end('<!doctype html><meta charset="utf-8"><title>echo test</title>');
  });
  await new Promise((resolve) => pageServer.listen(0, '127.0.0.1', resolve));
  pageUrl = `http://127.0.0.1:${pageServer.address().port}/`;
  context = await launch();
});
after(async () => {
  await context?.close();
  pageServer?.close();
});

test('binary and text echoes match byte for byte, 1 MiB included', { timeout: 60_000 }, async () => {
  const page = await context.newPage();
  await page.goto(pageUrl);
  const results = await page.evaluate(async (url) => {
    const MiB = 1 << 20;

    function randomBytes(length) {
      const bytes = new Uint8Array(length);
      // getRandomValues fills at most 64 KiB per call.
      for (let i = 0; i < length; i += 65536) {
        crypto.getRandomValues(bytes.subarray(i, Math.min(length, i + 65536)));
      }
      return bytes;
    }

    // Random text of at least `bytes` UTF-8 bytes: code points from every UTF-8 length, astral
    // ones included (as surrogate pairs in JS), never a lone surrogate.
    function randomText(bytes) {
      const ranges = [[0x20, 0x7e], [0xa0, 0x7ff], [0x800, 0xd7ff], [0xe000, 0xfffd], [0x10000, 0x10ffff]];
      const words = new Uint32Array(1);
      const parts = [];
      let size = 0;
      while (size < bytes) {
        crypto.getRandomValues(words);
        const [lo, hi] = ranges[words[0] % ranges.length];
        const cp = lo + ((words[0] >>> 3) % (hi - lo + 1));
        parts.push(String.fromCodePoint(cp));
        size += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
      }
      return parts.join('');
    }

    const equalBytes = (a, b) => {
      if (a.byteLength !== b.byteLength) return false;
      const x = new Uint8Array(a);
      const y = new Uint8Array(b);
      for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
      return true;
    };

    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    const received = [];
    let wake = null;
    ws.onmessage = (event) => { received.push(event.data); wake?.(); };
    const closed = new Promise((resolve) => { ws.onclose = (e) => { resolve(e.code); wake?.(); }; });
    await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = () => reject(new Error('connect failed')); });

    const sequence = Uint8Array.from({ length: 256 }, (_, i) => i);
    const cases = [
      ['empty binary', new Uint8Array(0)],
      ['every byte value', sequence],
      ['125 bytes', randomBytes(125)],
      ['126 bytes', randomBytes(126)],
      ['65535 bytes', randomBytes(65535)],
      ['65536 bytes', randomBytes(65536)],
      ['1 MiB binary', randomBytes(MiB)],
      ['empty text', ''],
      ['non-ASCII text', 'héllo wörld ✓ 日本語 🎉'],
      ['64 KiB text', randomText(64 * 1024)],
      ['1 MiB text', randomText(MiB)],
    ];
    // All sent back to back, then the echoes compared in order.
    for (const [, payload] of cases) ws.send(payload);
    const deadline = Date.now() + 30_000;
    while (received.length < cases.length && ws.readyState === WebSocket.OPEN && Date.now() < deadline) {
      await new Promise((resolve) => { wake = resolve; setTimeout(resolve, 100); });
    }
    const results = cases.map(([name, sent], i) => {
      const got = received[i];
      if (typeof sent === 'string') {
        return {
          name, kind: typeof got, length: new TextEncoder().encode(sent).length,
          equal: got === sent,
        };
      }
      return {
        name, kind: got instanceof ArrayBuffer ? 'binary' : typeof got, length: sent.byteLength,
        equal: got instanceof ArrayBuffer && equalBytes(got, sent.buffer),
      };
    });
    ws.close(1000, 'done');
    return { results, extra: received.length - cases.length, closeCode: await closed };
  }, ECHO_URL);

  for (const result of results.results) {
    assert.ok(result.equal, `${result.name} (${result.length} bytes, came back as ${result.kind}) differs`);
  }
  assert.deepEqual(results.results.map((r) => r.kind), [
    ...Array(7).fill('binary'), ...Array(4).fill('string'),
  ]);
  const textLength = results.results.find((r) => r.name === '1 MiB text').length;
  assert.ok(textLength >= 1 << 20 && textLength < (1 << 20) + 4);
  assert.equal(results.extra, 0, 'no message came back twice');
  assert.equal(results.closeCode, 1000);
  await page.close();
});
