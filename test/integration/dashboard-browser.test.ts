/**
 * The dashboard end to end in headless Chromium (Debian's `chromium`, driven by playwright-core;
 * nothing is downloaded) against a real Switchyard in front of real gunicorn Flask, with its
 * shared state in a private Redis. Saves the README's screenshots into docs/screenshots/.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { SwitchyardOptions } from '../../src/app.js';
import type { NewHandler } from '../../src/server/switch-middleware.js';
import { startFlask, type LegacyServer } from '../support/legacy-apps.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';
import { captureLogger, flagsText, listen, type Listening } from '../support/switchyard-harness.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// The README's screenshots are rewritten only on request (SWITCHYARD_UPDATE_SCREENSHOTS=1): a plain
// `npm test` takes them all the same, into a temp dir, and leaves the checkout as it was.
const SCREENSHOTS = process.env['SWITCHYARD_UPDATE_SCREENSHOTS'] === '1' ? path.join(ROOT, 'docs', 'screenshots') : mkdtempSync(path.join(tmpdir(), 'switchyard-screenshots-'));
after(() => {
  if (!SCREENSHOTS.startsWith(path.join(ROOT, 'docs'))) rmSync(SCREENSHOTS, { recursive: true, force: true });
});
const CHROMIUM = process.env['SWITCHYARD_CHROMIUM'] || '/usr/bin/chromium';
const ADMIN = 'dashboard-admin-token-0123456789';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run', '--disable-quic', '--disable-component-update', '--disable-sync'];

const catalogLike = (price: number) => {
  const now = Date.now() / 1000;
  return { items: [{ id: 1, name: 'anvil', updated_at: now }, { id: 2, name: 'rope', updated_at: now }], tags: ['tools', 'outdoor', 'sale'], price, total: 2, generated_at: now };
};
const handlers: Record<string, NewHandler> = {
  // A real difference (the price), plus the timestamps that differ on every call.
  catalog: (_req, res) => void res.json(catalogLike(9.99)),
  // Only the timestamps differ: once they are ignored, every comparison matches.
  quiet: (_req, res) => void res.json(catalogLike(10.0)),
  // A response sample that tries to run script in whoever looks at it.
  evil: (_req, res) => void res.type('text/html').send('<script>window.__pwned = 1</script><img src="x" onerror="window.__pwned = 2"><b>bold?</b>'),
  user: (req, res) => void res.json({ id: Number(req.params['id']), name: `user-${String(req.params['id'])}`, source: 'switchyard' }),
};

let flask: LegacyServer;
let redis: RedisServer;
let sy: Listening;
let options: SwitchyardOptions;
let context: BrowserContext;
let page: Page;
let userDataDir: string;

async function traffic(paths: readonly string[], times: number): Promise<void> {
  for (let i = 0; i < times; i++) {
    await Promise.all(paths.map(async (p) => (await fetch(`${sy.url}${p}`, { headers: { 'x-user-id': `u${i}` } })).arrayBuffer()));
  }
}

/** Waits (bounded) until the page's text at `selector` satisfies `check`; returns that text. */
async function textUntil(selector: string, check: (text: string) => boolean, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    last = (await page.locator(selector).first().textContent({ timeout: timeoutMs }).catch(() => '')) ?? '';
    if (check(last)) return last;
    await page.waitForTimeout(250);
  }
  assert.fail(`${selector}: text never matched; last: ${JSON.stringify(last)}`);
}

/** Every change goes through the reason dialog: it cannot be sent without a reason (the API requires one). */
async function confirmWith(reason: string): Promise<void> {
  const dialog = page.locator('[role=dialog]');
  await dialog.waitFor();
  const confirm = dialog.locator('button[name=confirm]');
  assert.equal(await confirm.isDisabled(), true, 'no reason yet: the change cannot be sent');
  await dialog.locator('input[name=reason]').fill('   ');
  assert.equal(await confirm.isDisabled(), true, 'a blank reason is no reason');
  await dialog.locator('input[name=reason]').fill(reason);
  await confirm.click();
  await dialog.waitFor({ state: 'detached' });
}

describe('dashboard in headless Chromium', { skip: !existsSync(CHROMIUM) ? `Debian's chromium is not installed (${CHROMIUM}): npm test installs it` : false }, () => {
  before(async () => {
    [flask, redis] = await Promise.all([startFlask({ workers: 2, threads: 2 }), startRedis()]);
    options = {
      adminToken: ADMIN,
      handlers,
      // Every shadow is compared, however busy this shared machine is (skipping is tested elsewhere).
      shadow: { loopUtilization: () => 0 },
      // Its shared state in the private Redis (so a restarted instance finds it again).
      redis: redis.url,
      logger: captureLogger(),
      flags: flagsText(`
upstreams:
  flask: { url: "${flask.url}" }
routes:
  - name: users
    path: /flask/users/:id
    methods: [GET]
    legacy: { upstream: flask, stripPrefix: /flask }
    new: { handler: user }
    mode: rollout
    rollout: { percentage: 25 }
    migration: { owner: team-accounts, targetDate: 2027-03-01 }
  - name: catalog
    path: /flask/catalog
    methods: [GET]
    legacy: { upstream: flask, stripPrefix: /flask }
    new: { handler: catalog }
    mode: legacy
    shadow: { percentage: 100, noisePercentage: 50 }
    migration: { owner: team-shop, targetDate: 2027-02-15 }
  - name: quiet
    path: /quiet/catalog
    methods: [GET]
    legacy: { upstream: flask, stripPrefix: /quiet }
    new: { handler: quiet }
    mode: legacy
    shadow: { percentage: 100, noisePercentage: 100 }
  - name: greeting
    path: /flask/hello
    methods: [GET]
    legacy: { upstream: flask, stripPrefix: /flask }
    new: { handler: evil }
    mode: legacy
    shadow: { percentage: 100, noisePercentage: 0 }
  - name: report
    path: /flask/report
    methods: [GET]
    legacy: { upstream: flask, stripPrefix: /flask }
    cache: {}
  - name: orders
    path: /canary/users/:id
    methods: [GET]
    legacy: { upstream: flask, stripPrefix: /canary }
    new: { handler: user }
    mode: legacy
    canary:
      interval: 500ms
      shadowFirst: { percentage: 100, minCompared: 100000, bake: 1h }
      steps: [10, 50, 100]
      bake: 1h
settings:
  canary: { tickMs: 100 }
`),
    };
    sy = await listen(options);
    await traffic(['/flask/users/1', '/flask/users/2', '/flask/catalog', '/quiet/catalog', '/flask/hello'], 12);
    userDataDir = mkdtempSync(path.join(tmpdir(), 'switchyard-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1360, height: 900 } });
    page = context.pages()[0] ?? (await context.newPage());
    mkdirSync(SCREENSHOTS, { recursive: true });
  });

  after(async () => {
    await context?.close();
    if (userDataDir !== undefined) rmSync(userDataDir, { recursive: true, force: true });
    await sy?.close();
    await Promise.all([flask?.stop(), redis?.stop()]);
  });

  it('signs in with the admin token: HttpOnly, SameSite=Strict session cookie; the overview lists the routes', async () => {
    await page.goto(`${sy.url}/_switchyard/ui/`);
    await page.locator('input[name=token]').fill(ADMIN);
    await page.locator('input[name=name]').fill('e2e');
    await page.locator('button[type=submit]').click();
    await page.locator('table.routes tr[data-route=users]').waitFor();
    const cookie = (await context.cookies()).find((c) => c.name === 'switchyard_session');
    assert.ok(cookie, 'a session cookie is set');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    assert.ok(cookie.expires > Date.now() / 1000, 'it expires');
    assert.equal(await page.evaluate(() => (globalThis as unknown as { document: { cookie: string } }).document.cookie), '', 'the page cannot read it');
    const row = await page.locator('tr[data-route=users]').textContent();
    assert.match(row ?? '', /rollout 25%/);
    assert.match(row ?? '', /team-accounts/);
    await page.locator('.live.on').waitFor();
    await page.screenshot({ path: path.join(SCREENSHOTS, 'overview.png'), fullPage: true });
  });

  it("shows a route's split, its rule in words and RED per side; moving the percentage lands in the audit log", async () => {
    await page.goto(`${sy.url}/_switchyard/ui/#/route/users`);
    const rule = await textUntil('[data-testid=rule]', (t) => t.includes('25% of users'));
    assert.match(rule, /25% of users by X-User-Id, group users/);
    // Both sides' share of the window's requests, once the outcomes have loaded.
    await page.locator('[data-side=legacy] [data-share]:not([data-share=""])').waitFor();
    const share = async (side: string) => Number(await page.locator(`[data-side=${side}] [data-share]`).getAttribute('data-share'));
    const [legacy, fresh] = [await share('legacy'), await share('new')];
    assert.ok(legacy > 0 && fresh > 0, `both sides served (${legacy}% / ${fresh}%)`);
    assert.ok(Math.abs(legacy + fresh - 100) <= 1, 'the two sides add up (rounded)');
    assert.match((await page.locator('[data-side=legacy]').textContent()) ?? '', /p50 [\d.]+ ms · p95 [\d.]+ ms · p99 [\d.]+ ms/);
    await page.locator('.chart canvas').first().waitFor();
    await page.screenshot({ path: path.join(SCREENSHOTS, 'route.png'), fullPage: true });

    await page.locator('input[name=percentage]').fill('50');
    await page.locator('button[name=set-percentage]').click();
    await confirmWith('canary step to 50%');
    await textUntil('[data-testid=rule]', (t) => t.includes('50% of users') && t.includes('runtime override'));
    await page.goto(`${sy.url}/_switchyard/ui/#/audit`);
    const entry = await textUntil('tr[data-audit-route=users]', (t) => t.includes('canary step to 50%'));
    assert.match(entry, /e2e \(dashboard\)/);
    // A diff: the field that changed as old → new, the rest once.
    assert.match(entry, /mode: rollout, percentage: 25 → 50, source: file → override/);
  });

  it('shows a shadow mismatch with the differing field highlighted', async () => {
    await page.goto(`${sy.url}/_switchyard/ui/#/route/catalog/shadow`);
    const summary = await textUntil('[data-testid=shadow-summary]', (t) => /[1-9]\d* mismatching of [1-9]/.test(t));
    assert.match(summary, /mismatching of/);
    const price = page.locator('.fields tr[data-field="/price"]');
    await price.waitFor();
    assert.match((await price.textContent()) ?? '', /difference/);
    const highlighted = page.locator('[data-exchange=new] .line.diff[data-pointer="/price"]');
    await highlighted.waitFor();
    assert.match((await highlighted.textContent()) ?? '', /9\.99/);
    assert.match((await page.locator('[data-exchange=legacy] .line.diff[data-pointer="/price"]').textContent()) ?? '', /10/);
    // The field tree: the timestamps are noise, so /items (only noise under it) shows with "show noise"
    // ticked, collapsed; its button expands it to /items/*, whose button shows the field itself.
    const items = page.locator('.fields tr[data-field="/items"]');
    assert.equal(await items.count(), 0, 'noise is hidden until asked for');
    await page.locator('input[name=show-noise]').check();
    await items.waitFor();
    assert.match((await items.textContent()) ?? '', /noise/);
    const leaf = page.locator('.fields tr[data-field="/items/*/updated_at"]');
    assert.equal(await page.locator('.fields tr[data-field="/items/*"]').count(), 0, 'collapsed: no child row');
    const expand = items.locator('button[name=expand]');
    assert.equal(await expand.getAttribute('aria-expanded'), 'false');
    // From the keyboard: focus the node's button and press Enter.
    await expand.focus();
    await page.keyboard.press('Enter');
    assert.equal(await expand.getAttribute('aria-expanded'), 'true');
    await page.locator('.fields tr[data-field="/items/*"] button[name=expand]').click();
    await leaf.waitFor();
    assert.match((await leaf.textContent()) ?? '', /updated_at.*noise/);
    assert.equal(await page.locator('.fields tr[data-field="/items/*/updated_at"][data-depth="2"]').count(), 1, 'the field sits two levels under /items');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'diff.png'), fullPage: true });
    // Collapsing the parent hides its subtree again; hiding noise hides the noise-only parent.
    await expand.click();
    await leaf.waitFor({ state: 'detached' });
    await page.locator('input[name=show-noise]').uncheck();
    await items.waitFor({ state: 'detached' });
    assert.equal(await price.count(), 1, 'the real difference stays');
  });

  it('approving the proposed ignore rules makes new traffic match: the mismatch rate drops', async () => {
    await page.goto(`${sy.url}/_switchyard/ui/#/route/quiet/shadow`);
    const before = await textUntil('[data-testid=shadow-summary]', (t) => /[1-9]\d* mismatching of/.test(t));
    const mismatchedBefore = Number(/(\d+) mismatching of (\d+)/.exec(before)?.[1]);
    for (const field of ['/generated_at', '/items/*/updated_at']) {
      const proposal = page.locator(`[data-proposal="${field}"]`);
      await proposal.waitFor();
      assert.match((await proposal.textContent()) ?? '', /timestamps/);
      await proposal.locator('button[name=approve]').click();
      await confirmWith(`${field} is a generation time`);
      await proposal.waitFor({ state: 'detached' });
    }
    const comparedBefore = Number(/mismatching of (\d+)/.exec(before)?.[1]);
    await traffic(['/quiet/catalog'], 20);
    const after = await textUntil('[data-testid=shadow-summary]', (t) => Number(/mismatching of (\d+)/.exec(t)?.[1]) >= comparedBefore + 20);
    const [, mismatched, compared] = /(\d+) mismatching of (\d+)/.exec(after)!.map(Number);
    assert.equal(mismatched, mismatchedBefore, 'no new comparison mismatched');
    assert.ok(mismatched / compared! < mismatchedBefore / comparedBefore, 'the mismatch rate dropped');
    const recent = await page.locator('[data-testid=recent-rate]').textContent();
    assert.doesNotMatch(recent ?? '', /\(100\.0%\)/);
    const exported = await (await fetch(`${sy.url}/_switchyard/shadow-rules/export`, { headers: { authorization: `Bearer ${ADMIN}` } })).text();
    assert.match(exported, /name: quiet[\s\S]*- \/generated_at[\s\S]*- \/items\/\*\/updated_at/);
  });

  it('turns the kill switch on and off, each after a confirmation (and not on cancel)', async () => {
    await page.goto(`${sy.url}/_switchyard/ui/#/`);
    await page.locator('button[name=kill-switch]').click();
    await page.locator('[role=dialog] button', { hasText: 'Cancel' }).click();
    await textUntil('.killswitch', (t) => t.includes('Kill switch: off'));
    await page.locator('button[name=kill-switch]').click();
    await confirmWith('new side misbehaving');
    await textUntil('.killswitch', (t) => t.includes('ON'));
    const served = await fetch(`${sy.url}/flask/users/1`, { headers: { 'x-user-id': 'anyone' } });
    assert.equal(served.headers.get('x-switchyard-backend'), 'legacy');
    await page.locator('button[name=kill-switch]').click();
    await confirmWith('fixed');
    await textUntil('.killswitch', (t) => t.includes('Kill switch: off'));
  });

  it('starts an autopilot run from the route page, then pauses and resumes it, each with a reason that lands in its timeline', async () => {
    await page.goto(`${sy.url}/_switchyard/ui/#/route/orders`);
    await page.locator('button[name=canary-start]').click();
    await confirmWith('start the orders migration');
    await textUntil('[data-testid=autopilot]', (t) => t.includes('running at the shadow stage'));
    await page.goto(`${sy.url}/_switchyard/ui/#/autopilot`);
    const run = page.locator('[data-run=orders]');
    await textUntil('[data-run=orders] [data-testid=run-status]', (t) => t === 'running');
    await run.locator('button[name=canary-pause]').click();
    await confirmWith('hold for the release freeze');
    await textUntil('[data-run=orders] [data-testid=run-status]', (t) => t === 'paused');
    await run.locator('button[name=canary-resume]').click();
    await confirmWith('freeze is over');
    await textUntil('[data-run=orders] [data-testid=run-status]', (t) => t === 'running');
    const events = await textUntil('[data-run=orders] ol.events', (t) => t.includes('freeze is over'));
    assert.match(events, /e2e \(dashboard\) · pause: running shadow → paused shadow \(“hold for the release freeze”\)/);
    assert.match(events, /e2e \(dashboard\) · resume: paused shadow → running shadow \(“freeze is over”\)/);
    // The controls people used are in the audit log too.
    await page.goto(`${sy.url}/_switchyard/ui/#/audit`);
    await page.locator('input[name=audit-filter]').fill('orders');
    const paused = await textUntil('tr[data-audit-route=orders]:has-text("autopilot pause")', (t) => t.includes('hold for the release freeze'));
    assert.match(paused, /e2e \(dashboard\)/);
    assert.match(paused, /status: running → paused/);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'autopilot.png'), fullPage: true });
  });

  it("shows a cached route's hit ratio and purges its cache after asking a reason; the purge is in the audit log, filtered by route", async () => {
    await traffic(['/flask/report'], 2);
    await page.goto(`${sy.url}/_switchyard/ui/#/route/report`);
    assert.match(await textUntil('[data-testid=cache]', (t) => t.includes('hit ratio 50.0%')), /hit 1/);
    await page.locator('button[name=purge-route]').click();
    const dialog = page.locator('[role=dialog]');
    await dialog.locator('input[name=reason]').waitFor();
    assert.equal(await dialog.locator('button[name=confirm]').isDisabled(), true, 'no purge without a reason');
    await confirmWith('report numbers were wrong');
    await textUntil('[role=status]', (t) => t.includes('done'));
    assert.equal((await fetch(`${sy.url}/flask/report`)).headers.get('x-switchyard-cache'), 'MISS', 'purged: the next request goes to legacy');
    await page.goto(`${sy.url}/_switchyard/ui/#/audit`);
    await page.locator('input[name=audit-filter]').fill('report');
    const entry = await textUntil('tr[data-audit-route=report]', (t) => t.includes('report numbers were wrong'));
    assert.match(entry, /e2e \(dashboard\)/);
    assert.match(entry, /cache purge \(route: report\): 1 removed/);
    assert.match(entry, /entries: 1 → 0, source: cache/);
    assert.equal(await page.locator('table.audit tbody tr:not([data-audit-route=report])').count(), 0, 'the filter shows this route only');
  });

  it('renders a response sample holding <script> as text: nothing runs', async () => {
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(`${sy.url}/_switchyard/ui/#/route/greeting/shadow`);
    const body = page.locator('[data-exchange=new] pre.body');
    await body.waitFor();
    assert.match((await body.textContent()) ?? '', /<script>window.__pwned = 1<\/script>/);
    assert.equal(await page.locator('[data-exchange=new] pre.body script, [data-exchange=new] pre.body img, [data-exchange=new] pre.body b').count(), 0, 'no element was created from the body');
    assert.equal(await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned), undefined);
    assert.deepEqual(dialogs, []);
  });

  it('reconnects its live stream by itself when the instance restarts on the same port (a proxy answering 503 meanwhile), and shows a later change without a reload', async () => {
    await page.goto(`${sy.url}/_switchyard/ui/#/`);
    await page.locator('.live.on').waitFor();
    await textUntil('.killswitch', (t) => t.includes('Kill switch: off'));
    // Gone after a reload or a navigation: proves the page was never reloaded.
    await page.evaluate(() => ((globalThis as unknown as { __sameDocument?: boolean }).__sameDocument = true));
    const port = Number(new URL(sy.url).port);
    await sy.close();
    await page.locator('.live.off').waitFor();
    // While it is away, whatever stands in front answers 503 — an answer EventSource gives up on.
    let refused = 0;
    const standIn = http.createServer((req, res) => {
      if (req.url?.startsWith('/_switchyard/events') === true) refused++;
      res.writeHead(503, { 'content-type': 'text/plain', connection: 'close' }).end('restarting');
    });
    await new Promise<void>((resolve) => standIn.listen(port, '127.0.0.1', resolve));
    try {
      const deadline = Date.now() + 20_000;
      while (refused < 1 && Date.now() < deadline) await page.waitForTimeout(100);
      assert.ok(refused >= 1, 'the page tried the stream again while the instance was away');
    } finally {
      standIn.closeAllConnections();
      await new Promise((resolve) => standIn.close(resolve));
    }
    sy = await listen(options, 'handler', undefined, port);
    await page.locator('.live.on').waitFor({ timeout: 30_000 });
    const on = await fetch(`${sy.url}/_switchyard/flags/kill-switch`, { method: 'PUT', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ on: true, reason: 'after the restart' }) });
    assert.equal(on.status, 200);
    await textUntil('.killswitch', (t) => t.includes('ON'));
    assert.equal(await page.evaluate(() => (globalThis as unknown as { __sameDocument?: boolean }).__sameDocument), true, 'no reload');
    const off = await fetch(`${sy.url}/_switchyard/flags/kill-switch`, { method: 'PUT', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ on: false, reason: 'restart test over' }) });
    assert.equal(off.status, 200);
    await textUntil('.killswitch', (t) => t.includes('Kill switch: off'));
  });

  it('refuses a change made with the session cookie but without the CSRF token', async () => {
    const answer = await page.evaluate(async () => {
      const res = await fetch('/_switchyard/flags/kill-switch', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ on: true, reason: 'forged' }) });
      return { status: res.status, body: (await res.json()) as { code?: string } };
    });
    assert.equal(answer.status, 403);
    assert.equal(answer.body.code, 'SWITCHYARD_ADMIN_CSRF');
    const flags = (await (await fetch(`${sy.url}/_switchyard/flags`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as { killSwitch: { effective: boolean } };
    assert.equal(flags.killSwitch.effective, false, 'nothing changed');
  });

  it('signs out: the cookie no longer opens the admin API', async () => {
    await page.goto(`${sy.url}/_switchyard/ui/#/`);
    await page.locator('header button', { hasText: 'Sign out' }).click();
    await page.locator('input[name=token]').waitFor();
    const status = await page.evaluate(async () => (await fetch('/_switchyard/routes')).status);
    assert.equal(status, 401);
  });
});
