// One chat over two processes: two pages, each connected to a different chat process, both
// processes sharing one Redis (`chat --redis`), talk with each other and see each other's
// presence.
//
// Needs CLUSTER_URLS: two chat servers started with --redis on one redis-server, separated by a
// space (tests/browser/run).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { env, eventually, join, launch, members, messages, openChat, systemLines } from './lib.mjs';

const [URL_A, URL_B] = env('CLUSTER_URLS').split(' ');

let context;
before(async () => { context = await launch(); });
after(async () => { await context?.close(); });

test('members on two chat processes talk through Redis', { timeout: 60_000 }, async () => {
  assert.notEqual(URL_A, URL_B);
  const alice = await openChat(context, URL_A);
  const bob = await openChat(context, URL_B);
  await join(alice, 'alice', 'cluster');
  await eventually(async () => assert.deepEqual(await members(alice), ['alice']));
  await join(bob, 'bob', 'cluster');
  // Presence spans the processes (listed by process, so the order is not fixed).
  for (const page of [alice, bob]) {
    await eventually(async () => assert.deepEqual((await members(page)).sort(), ['alice', 'bob']));
  }
  await eventually(async () =>
    assert.deepEqual(await systemLines(alice), ['You joined cluster', 'bob joined']));

  await alice.fill('#text', 'Hello from process A');
  await alice.press('#text', 'Enter');
  const first = [['alice', 'Hello from process A']];
  for (const page of [alice, bob]) {
    await eventually(async () => assert.deepEqual(await messages(page), first));
  }
  await bob.fill('#text', 'And hello from process B');
  await bob.press('#text', 'Enter');
  await alice.fill('#text', 'Same room, two servers.');
  await alice.press('#text', 'Enter');
  const conversation = [
    ...first,
    ['bob', 'And hello from process B'],
    ['alice', 'Same room, two servers.'],
  ];
  for (const page of [alice, bob]) {
    await eventually(async () => assert.deepEqual(await messages(page), conversation));
  }

  // Bob leaves on process B: alice, on process A, sees him go.
  await bob.click('#leave');
  await eventually(async () => assert.deepEqual(await members(alice), ['alice']));
  await eventually(async () => assert.equal((await systemLines(alice)).at(-1), 'bob left'));
  await alice.close();
  await bob.close();
});
