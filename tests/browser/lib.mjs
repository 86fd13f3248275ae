// Helpers shared by the browser tests: Chromium, servers, waiting.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

/** The environment `run` sets; a test run by hand without it fails with a clear message. */
export function env(name) {
  const value = process.env[name];
  assert.ok(value, `${name} is not set: run the tests with tests/browser/run`);
  return value;
}

/**
 * Launches headless Chromium with a fresh profile (deleted on close), with `args` added to the
 * command line. Returns the context; its `close()` also removes the profile.
 */
export async function launch({ args = [] } = {}) {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rfc6455-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      ...args,
    ],
    viewport: { width: 900, height: 600 },
  });
  const close = context.close.bind(context);
  context.close = async () => {
    try {
      await close();
    } finally {
      fs.rmSync(userDataDir, { recursive: true, force: true });
    }
  };
  return context;
}

/** Retries `check` (which throws, e.g. with `assert`) until it passes or `timeout` ms pass. */
export async function eventually(check, { timeout = 10_000, interval = 50 } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() >= deadline) throw error;
    }
    await sleep(interval);
  }
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A TCP port that was free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts TCP connections on `port`. */
export async function waitForPort(port, timeout = 10_000) {
  await eventually(() => new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(); });
    socket.once('error', reject);
  }), { timeout, interval: 50 });
}

/** Starts a server binary with `args`, its output appended to `log`; resolves once it listens. */
export async function startServer(binary, port, args, log) {
  const out = fs.openSync(log, 'a');
  const child = spawn(binary, [`127.0.0.1:${port}`, ...args], { stdio: ['ignore', out, out] });
  fs.closeSync(out);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  child.exited = exited;
  await Promise.race([
    waitForPort(port),
    exited.then(({ code, signal }) => {
      throw new Error(`${binary} exited (${code ?? signal}) before listening; see ${log}`);
    }),
  ]);
  return child;
}

/** Kills `child` with `signal` and waits for it to be gone. */
export async function stopServer(child, signal = 'SIGTERM') {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  await child.exited;
}

// ------------------------------------------------------------------------------ the chat page

/** Opens the chat page and waits until it is online. */
export async function openChat(context, url) {
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error(`page error: ${error}`));
  await page.goto(url);
  await eventually(async () => assert.equal(await state(page), 'online'));
  return page;
}

/**
 * Joins `room` as `name` through the form; waits until the server has acknowledged it (the
 * message input is enabled) and the member list shows `name`.
 */
export async function join(page, name, room) {
  await page.fill('#name', name);
  await page.fill('#room', room);
  await page.click('#join');
  await eventually(async () => {
    assert.equal(await page.isEnabled('#text'), true);
    assert.equal(await page.textContent('#room-label'), `· ${room} as ${name}`);
    assert.ok((await members(page)).includes(name));
  });
}

export const state = (page) => page.getAttribute('#status', 'data-state');
export const members = (page) => page.locator('#members li').allTextContents();
export const typing = (page) => page.textContent('#typing');

/** The chat messages shown, oldest first, as `[from, text]`. */
export function messages(page) {
  return page.$$eval('#messages li.message', (items) =>
    items.map((item) => [item.dataset.from, item.querySelector('.text').textContent]));
}

/** The system lines shown ("bob joined"), oldest first. */
export const systemLines = (page) => page.locator('#messages li.system').allTextContents();
