// The chat over HTTPS and HTTP/2 in Chromium: the page comes over HTTP/2, and its WebSockets
// travel over that HTTP/2 connection as extended CONNECT streams (RFC 8441), which the server's
// log reports for each one; the chat then works as over HTTP/1.1.
//
// Needs CHAT_H2_URL (the chat started with --tls, features rustls and http2), CHAT_H2_LOG (its
// output) and CHAT_H2_SPKI (the base64 SHA-256 of its certificate's public key, which Chromium
// is told to trust): tests/browser/run sets them.
//
// Chromium opens a WebSocket over HTTP/2 only for wss://, only on an HTTP/2 connection it already
// has to that origin, and only after the server's SETTINGS enabled extended CONNECT. No feature
// switch is needed (Chromium has done it by default since version 91).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';

import { env, eventually, join, launch, members, messages, openChat } from './lib.mjs';

const CHAT_H2_URL = env('CHAT_H2_URL');
const CHAT_H2_LOG = env('CHAT_H2_LOG');
const CHAT_H2_SPKI = env('CHAT_H2_SPKI');

let context;
before(async () => {
  // The certificate is self-signed: trusted by its key, so no certificate error changes how
  // Chromium pools its connections.
  context = await launch({ args: [`--ignore-certificate-errors-spki-list=${CHAT_H2_SPKI}`] });
});
after(async () => { await context?.close(); });

/** The handshakes the server logged, in order: "HTTP/2 extended CONNECT" or "HTTP/1.1 upgrade". */
function handshakes() {
  return [...fs.readFileSync(CHAT_H2_LOG, 'utf8').matchAll(/^chat: #\d+ opened by (.+)$/gm)]
    .map((match) => match[1]);
}

test('the chat over HTTP/2: page and WebSockets on one connection', { timeout: 60_000 }, async () => {
  const before = handshakes().length;
  const alice = await openChat(context, CHAT_H2_URL);
  const bob = await openChat(context, CHAT_H2_URL);
  for (const page of [alice, bob]) {
    const protocol = await page.evaluate(() => performance.getEntriesByType('navigation')[0].nextHopProtocol);
    assert.equal(protocol, 'h2', 'the page came over HTTP/2');
  }
  // Both pages are online: both WebSockets are open, and the server saw extended CONNECTs.
  await eventually(() => assert.deepEqual(handshakes().slice(before),
    ['HTTP/2 extended CONNECT', 'HTTP/2 extended CONNECT']));

  await join(alice, 'alice', 'h2');
  await join(bob, 'bob', 'h2');
  for (const page of [alice, bob]) {
    await eventually(async () => assert.deepEqual(await members(page), ['alice', 'bob']));
  }
  const large = 'é'.repeat(300_000); // 600 KB of UTF-8: many DATA frames, flow-controlled
  await alice.fill('#text', 'over one HTTP/2 connection');
  await alice.press('#text', 'Enter');
  await bob.fill('#text', large);
  await bob.press('#text', 'Enter');
  const conversation = [['alice', 'over one HTTP/2 connection'], ['bob', large]];
  for (const page of [alice, bob]) {
    await eventually(async () => assert.deepEqual(await messages(page), conversation), { timeout: 20_000 });
  }
  // No WebSocket fell back to HTTP/1.1.
  assert.ok(handshakes().slice(before).every((handshake) => handshake === 'HTTP/2 extended CONNECT'));
  await alice.close();
  await bob.close();
});
