// The chat example in Chromium: two members talking, presence, typing, large and non-ASCII
// messages, and the server's answers to bad input.
//
// Needs CHAT_URL: a chat server started with --max-message-bytes 2097152 (tests/browser/run).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import {
  env, eventually, join, launch, members, messages, openChat, systemLines, typing,
} from './lib.mjs';

const CHAT_URL = env('CHAT_URL');
const SCREENSHOT = process.env.SCREENSHOT;

let context;
before(async () => { context = await launch(); });
after(async () => { await context?.close(); });

test('two members see each other, their messages and their typing', { timeout: 60_000 }, async () => {
  const alice = await openChat(context, CHAT_URL);
  const bob = await openChat(context, CHAT_URL);
  await join(alice, 'alice', 'rust');
  await join(bob, 'bob', 'rust');
  for (const page of [alice, bob]) {
    await eventually(async () => assert.deepEqual(await members(page), ['alice', 'bob']));
  }
  await eventually(async () =>
    assert.deepEqual(await systemLines(alice), ['You joined rust', 'bob joined']));
  assert.deepEqual(await systemLines(bob), ['You joined rust']);

  // Typing shows on the other page only, and goes away with the message.
  await alice.fill('#text', 'Hi Bob! Is the new release out?');
  await eventually(async () => assert.equal(await typing(bob), 'alice is typing…'));
  assert.equal(await typing(alice), '');
  await alice.press('#text', 'Enter');
  const first = [['alice', 'Hi Bob! Is the new release out?']];
  for (const page of [alice, bob]) {
    await eventually(async () => assert.deepEqual(await messages(page), first));
  }
  assert.equal(await typing(bob), '');
  assert.equal(await alice.inputValue('#text'), '', 'the input is cleared after sending');

  await bob.fill('#text', 'Yes: 0.1.0, with permessage-deflate.');
  await eventually(async () => assert.equal(await typing(alice), 'bob is typing…'));
  await bob.click('#send');
  await alice.fill('#text', 'Great, upgrading now.');
  await alice.press('#text', 'Enter');
  const conversation = [
    ...first,
    ['bob', 'Yes: 0.1.0, with permessage-deflate.'],
    ['alice', 'Great, upgrading now.'],
  ];
  for (const page of [alice, bob]) {
    await eventually(async () => assert.deepEqual(await messages(page), conversation));
  }
  // Own messages are marked as such.
  assert.deepEqual(
    await alice.$$eval('#messages li.message', (items) => items.map((i) => i.classList.contains('own'))),
    [true, false, true]);

  // Mid-chat: bob is typing again. This is the picture in docs/chat.png.
  await bob.fill('#text', 'Any breaking');
  await eventually(async () => assert.equal(await typing(alice), 'bob is typing…'));
  if (SCREENSHOT) {
    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await alice.screenshot({ path: SCREENSHOT });
  }
  await bob.fill('#text', '');

  // Bob leaves: alice sees him go.
  await bob.click('#leave');
  await eventually(async () => assert.deepEqual(await members(alice), ['alice']));
  await eventually(async () => assert.deepEqual((await systemLines(alice)).at(-1), 'bob left'));
  await eventually(async () => assert.deepEqual(await members(bob), []));
  await alice.close();
  await bob.close();
});

test('a 1 MiB message and non-ASCII text arrive intact', { timeout: 60_000 }, async () => {
  const alice = await openChat(context, CHAT_URL);
  const bob = await openChat(context, CHAT_URL);
  await join(alice, 'alice', 'big');
  await join(bob, 'bob', 'big');
  await eventually(async () => assert.deepEqual(await members(alice), ['alice', 'bob']));

  const greeting = 'héllo wörld ✓ 日本語 🎉';
  await alice.fill('#text', greeting);
  await alice.press('#text', 'Enter');
  await eventually(async () => assert.deepEqual(await messages(bob), [['alice', greeting]]));

  // 1 MiB of UTF-8 (1-, 2-, 3- and 4-byte characters, JSON's special characters, markup), made
  // from a seeded generator so that a failure reproduces.
  const big = bigText(1 << 20, 6455);
  assert.equal(Buffer.byteLength(big, 'utf8'), 1 << 20);
  await alice.$eval('#text', (input, text) => { input.value = text; }, big);
  await alice.click('#send');
  for (const page of [bob, alice]) {
    await eventually(async () => assert.equal(await page.locator('#messages li.message').count(), 2),
      { timeout: 20_000 });
    // Compared in the page, character for character.
    const same = await page.$eval('#messages li.message:last-child .text',
      (node, expected) => node.textContent === expected, big);
    assert.ok(same, 'the 1 MiB message arrived changed');
    assert.equal(
      await page.$eval('#messages li.message:last-child', (node) => node.dataset.from), 'alice');
  }
  // Nothing was injected as markup.
  assert.equal(await bob.$$eval('#messages b.injected', (nodes) => nodes.length), 0);
  await alice.close();
  await bob.close();
});

test('bad input gets an error, a flood a 1008 close, an oversized message a 1009', { timeout: 60_000 }, async () => {
  const page = await context.newPage();
  await page.goto(CHAT_URL);
  const result = await page.evaluate(async () => {
    const url = new URL('ws', location.href);
    url.protocol = 'ws:';
    const open = () => new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const inbox = [];
      const waiters = [];
      ws.onmessage = (event) => {
        const message = JSON.parse(event.data);
        const waiter = waiters.shift();
        if (waiter) waiter(message); else inbox.push(message);
      };
      ws.next = () => inbox.length ? Promise.resolve(inbox.shift())
        : new Promise((res) => waiters.push(res));
      ws.closed = new Promise((res) => { ws.onclose = (e) => res({ code: e.code, reason: e.reason }); });
      ws.onopen = () => resolve(ws);
      ws.onerror = () => reject(new Error('connection failed'));
    });
    const out = {};
    const ws = await open();
    ws.send('this is not JSON');
    out.badJson = await ws.next();
    ws.send(JSON.stringify({ type: 'dance', id: 'd1' }));
    out.unknown = await ws.next();
    ws.send(JSON.stringify({ type: 'message', id: 7, payload: { text: 'hi' } }));
    out.notInRoom = await ws.next();
    ws.send(new Uint8Array([1, 2, 3]));
    out.binary = await ws.next();
    // Still open, and still served.
    ws.send(JSON.stringify({ type: 'join', id: 'j', payload: { room: 'rules', name: 'eve' } }));
    out.presence = await ws.next();
    out.ack = await ws.next();
    out.stillOpen = ws.readyState === WebSocket.OPEN;
    // 100 messages at once: far above 20/s with a burst of 40.
    for (let i = 0; i < 100; i++) ws.send(JSON.stringify({ type: 'typing' }));
    out.flood = await ws.closed;

    // Above --max-message-bytes (2 MiB).
    const big = await open();
    big.send('x'.repeat(3 << 20));
    out.tooBig = await big.closed;
    return out;
  });
  const pick = (m) => [m.type, m.id, m.payload.code];
  assert.deepEqual(pick(result.badJson), ['error', null, 'bad_json']);
  assert.deepEqual(pick(result.unknown), ['error', 'd1', 'unknown_type']);
  assert.equal(result.unknown.payload.reason, 'unknown message type "dance"');
  assert.deepEqual(pick(result.notInRoom), ['error', 7, 'not_in_room']);
  assert.deepEqual(pick(result.binary), ['error', null, 'unsupported']);
  assert.deepEqual(result.presence.payload, { room: 'rules', name: 'eve', status: 'online', members: ['eve'] });
  assert.deepEqual([result.ack.type, result.ack.id, result.ack.payload.of], ['ack', 'j', 'join']);
  assert.equal(result.stillOpen, true);
  assert.deepEqual(result.flood, { code: 1008, reason: 'rate limit exceeded' });
  assert.equal(result.tooBig.code, 1009);
  await page.close();
});

/** `bytes` bytes of UTF-8 text from a seeded generator, with characters of every length. */
function bigText(bytes, seed) {
  const pieces = ['a', 'Z', '0', ' ', '"', '\\', '/', '<b class="injected">', '</b>', '&amp;',
    'é', 'ö', 'ß', 'Ж', '✓', '日本語', '€', '🎉', '𝄞', '\t'];
  let state = seed >>> 0;
  const random = () => {
    // xorshift32
    state ^= state << 13; state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5; state >>>= 0;
    return state;
  };
  const parts = [];
  let size = 0;
  for (;;) {
    const piece = pieces[random() % pieces.length];
    const length = Buffer.byteLength(piece, 'utf8');
    if (size + length > bytes) break;
    parts.push(piece);
    size += length;
  }
  parts.push('a'.repeat(bytes - size));
  return parts.join('');
}
