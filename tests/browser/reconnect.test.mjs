// The chat page survives a server crash: it goes offline, reconnects with backoff once the server
// is back on the same port, and rejoins its room by itself.
//
// Needs CHAT_BIN (the chat example's binary) and LOG_DIR (tests/browser/run sets both).
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';

import {
  env, eventually, freePort, join, launch, members, messages, openChat, startServer, state,
  stopServer,
} from './lib.mjs';

const CHAT_BIN = env('CHAT_BIN');
const LOG = path.join(env('LOG_DIR'), 'chat-restart.log');

let context;
let server;
before(async () => { context = await launch(); });
after(async () => {
  await stopServer(server, 'SIGKILL');
  await context?.close();
});

/**
 * Records every value the status element's `data-state` takes from now on, and the text shown
 * with it (the page sets both at once, before the observer runs).
 */
async function recordStates(page) {
  await page.evaluate(() => {
    const status = document.getElementById('status');
    window.states = [];
    window.texts = [];
    new MutationObserver(() => {
      window.states.push(status.dataset.state);
      window.texts.push(status.textContent);
    }).observe(status, { attributes: true, attributeFilter: ['data-state'] });
  });
}

test('the page reconnects and rejoins after the server is killed and restarted', { timeout: 90_000 }, async () => {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  server = await startServer(CHAT_BIN, port, [], LOG);

  const alice = await openChat(context, url);
  const bob = await openChat(context, url);
  await join(alice, 'alice', 'ops');
  await join(bob, 'bob', 'ops');
  await eventually(async () => assert.deepEqual(await members(alice), ['alice', 'bob']));
  await alice.fill('#text', 'before the crash');
  await alice.press('#text', 'Enter');
  await eventually(async () => assert.deepEqual(await messages(bob), [['alice', 'before the crash']]));
  await recordStates(alice);
  await recordStates(bob);

  // A crash, not a shutdown: no Close frame, the pages see the TCP connection end (1006).
  await stopServer(server, 'SIGKILL');
  for (const page of [alice, bob]) {
    await eventually(async () => assert.ok((await page.evaluate(() => window.states)).includes('offline')));
    // The reconnect delay is jittered down to nothing, so the page may already be connecting
    // again: what it showed when it went offline is checked from the record.
    const shown = await page.evaluate(() => window.texts[window.states.indexOf('offline')]);
    assert.match(shown, /^Offline — reconnecting in \d+ s$/);
    assert.deepEqual(await members(page), []);
    assert.equal(await page.isDisabled('#send'), true);
  }

  server = await startServer(CHAT_BIN, port, [], LOG);
  for (const page of [alice, bob]) {
    await eventually(async () => assert.equal(await state(page), 'online'), { timeout: 30_000 });
    // Rejoined without anyone touching the page; who came back first is up to the jitter.
    await eventually(async () => assert.deepEqual((await members(page)).sort(), ['alice', 'bob']),
      { timeout: 10_000 });
    const states = await page.evaluate(() => window.states);
    assert.equal(states[0], 'offline', `states: ${states}`);
    assert.equal(states.at(-1), 'online', `states: ${states}`);
    assert.ok(states.includes('connecting'), `states: ${states}`);
  }

  await eventually(async () => assert.equal(await alice.isEnabled('#send'), true));
  await alice.fill('#text', 'after the restart');
  await alice.press('#text', 'Enter');
  const expected = [['alice', 'before the crash'], ['alice', 'after the restart']];
  await eventually(async () => assert.deepEqual(await messages(bob), expected));
  await eventually(async () => assert.deepEqual(await messages(alice), expected));
});
