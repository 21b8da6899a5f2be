import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import supertest from 'supertest';
import { createSwitchyard, type Switchyard } from '../../src/app.js';
import { openEventStream, type EventStream } from '../support/event-stream.js';
import { captureLogger, flagsText } from '../support/switchyard-harness.js';

const ADMIN = 'auth-admin-token-0123456789abc';
const VIEWER = 'auth-viewer-token-0123456789abc';
const FLAGS = flagsText(`
upstreams:
  app: { url: "http://127.0.0.1:9" }
routes:
  - name: users
    path: /users/:id
    legacy: { upstream: app }
    new: { handler: user }
    mode: rollout
    rollout: { percentage: 10 }
`);

async function signIn(agent: supertest.Agent, token: string, name = 'ana') {
  return agent.post('/_switchyard/ui/session').send({ token, name });
}
/** The agent's session cookie as a Cookie header (for fetch, which streams). */
const jarCookie = (agent: supertest.Agent): string =>
  `switchyard_session=${decodeURIComponent(String(agent.jar.getCookie('switchyard_session', { domain: '127.0.0.1', path: '/_switchyard', secure: false, script: false })?.value ?? ''))}`;
/** The app on a loopback port (supertest cannot read a stream as it goes). */
async function listenOn(sy: Switchyard): Promise<{ url: string; close(): Promise<void> }> {
  const server = sy.app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
const cookieOf = (res: supertest.Response): string => {
  const raw = res.headers['set-cookie'] as unknown as string[] | undefined;
  assert.ok(raw?.[0], 'a Set-Cookie header');
  return raw[0];
};

describe('dashboard sign-in, sessions, CSRF and the viewer token (over HTTP)', () => {
  let sy: Switchyard;
  let assets: string;
  before(async () => {
    assets = mkdtempSync(path.join(tmpdir(), 'switchyard-ui-'));
    sy = await createSwitchyard({ flags: FLAGS, adminToken: ADMIN, viewerToken: VIEWER, handlers: { user: (_req, res) => void res.json({}) }, logger: captureLogger(), watch: false, ui: { assetsDir: assets }, authFailures: { maxFailures: 3 } });
  });
  after(async () => {
    await sy.close();
    rmSync(assets, { recursive: true, force: true });
  });

  it('gives an HttpOnly, SameSite=Strict, expiring cookie for the admin token, and the CSRF token in the body only', async () => {
    const res = await signIn(supertest.agent(sy.app), ADMIN);
    assert.equal(res.status, 200);
    const cookie = cookieOf(res);
    assert.match(cookie, /^switchyard_session=[^;]+; Path=\/_switchyard; HttpOnly; SameSite=Strict; Max-Age=28800$/);
    assert.equal(res.body.role, 'admin');
    assert.equal(res.body.name, 'ana');
    assert.equal(typeof res.body.csrfToken, 'string');
    assert.ok(!cookie.includes(res.body.csrfToken), 'the CSRF token is not in the cookie');
    assert.equal(res.headers['content-security-policy']?.includes("script-src 'self'"), true);
  });

  it('the cookie reads the admin API; a change needs the CSRF token too; the audit log names who signed in', async () => {
    const agent = supertest.agent(sy.app);
    const { body } = await signIn(agent, ADMIN, 'ana');
    assert.equal((await agent.get('/_switchyard/flags')).status, 200);
    const forged = await agent.put('/_switchyard/flags/routes/users').send({ percentage: 50, reason: 'no csrf' });
    assert.equal(forged.status, 403);
    assert.equal(forged.body.code, 'SWITCHYARD_ADMIN_CSRF');
    const wrong = await agent.put('/_switchyard/flags/routes/users').set('x-csrf-token', 'not-it').send({ percentage: 50, reason: 'wrong csrf' });
    assert.equal(wrong.body.code, 'SWITCHYARD_ADMIN_CSRF');
    assert.equal((await agent.get('/_switchyard/flags/routes/users')).body.percentage, 10, 'nothing changed');
    const ok = await agent.put('/_switchyard/flags/routes/users').set('x-csrf-token', body.csrfToken).set('x-switchyard-actor', 'someone-else').send({ percentage: 50, reason: 'step' });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.audit.by, 'ana (dashboard)');
    assert.equal((await agent.delete('/_switchyard/flags/routes/users').set('x-csrf-token', body.csrfToken).send({ reason: 'back to the file' })).status, 200);
  });

  it('the bearer token still works without any CSRF token', async () => {
    const res = await supertest(sy.app).put('/_switchyard/flags/routes/users').set('authorization', `Bearer ${ADMIN}`).send({ percentage: 20, reason: 'bearer' });
    assert.equal(res.status, 200);
    assert.equal((await supertest(sy.app).delete('/_switchyard/flags/routes/users').set('authorization', `Bearer ${ADMIN}`).send({ reason: 'back to the file' })).status, 200);
  });

  it('the viewer token reads but cannot change — as a bearer token and as a session', async () => {
    assert.equal((await supertest(sy.app).get('/_switchyard/routes').set('authorization', `Bearer ${VIEWER}`)).status, 200);
    const put = await supertest(sy.app).put('/_switchyard/flags/kill-switch').set('authorization', `Bearer ${VIEWER}`).send({ on: true, reason: 'viewer tries' });
    assert.equal(put.status, 403);
    assert.equal(put.body.code, 'SWITCHYARD_ADMIN_READ_ONLY');
    const agent = supertest.agent(sy.app);
    const { body } = await signIn(agent, VIEWER, 'vic');
    assert.equal(body.role, 'viewer');
    assert.equal((await agent.get('/_switchyard/shadow-rules')).status, 200);
    const change = await agent.put('/_switchyard/flags/kill-switch').set('x-csrf-token', body.csrfToken).send({ on: true, reason: 'viewer tries' });
    assert.equal(change.body.code, 'SWITCHYARD_ADMIN_READ_ONLY');
    assert.equal((await supertest(sy.app).get('/_switchyard/flags').set('authorization', `Bearer ${ADMIN}`)).body.killSwitch.effective, false);
  });

  it('counts wrong tokens at sign-in with wrong bearer tokens, per address: 429 with Retry-After, even for the right token meanwhile', async () => {
    const other = await createSwitchyard({ flags: FLAGS, adminToken: ADMIN, handlers: { user: (_req, res) => void res.json({}) }, logger: captureLogger(), watch: false, ui: { assetsDir: assets }, authFailures: { maxFailures: 3 } });
    try {
      const agent = supertest.agent(other.app);
      for (let i = 0; i < 2; i++) assert.equal((await signIn(agent, `wrong-token-${i}-0123456789`)).status, 403);
      assert.equal((await supertest(other.app).get('/_switchyard/flags').set('authorization', 'Bearer wrong-bearer-0123456789')).status, 403);
      const limited = await signIn(agent, ADMIN);
      assert.equal(limited.status, 429);
      assert.equal(limited.body.code, 'SWITCHYARD_AUTH_RATE_LIMITED');
      assert.match(String(limited.headers['retry-after']), /^\d+$/);
      assert.equal(limited.headers['set-cookie'], undefined);
    } finally {
      await other.close();
    }
  });

  it('signing out needs the CSRF token, then the cookie is dead', async () => {
    const agent = supertest.agent(sy.app);
    const { body } = await signIn(agent, ADMIN);
    assert.equal((await agent.get('/_switchyard/ui/session')).body.role, 'admin');
    assert.equal((await agent.delete('/_switchyard/ui/session')).status, 403);
    const out = await agent.delete('/_switchyard/ui/session').set('x-csrf-token', body.csrfToken);
    assert.equal(out.status, 204);
    assert.match(cookieOf(out), /switchyard_session=; .*Max-Age=0/);
    assert.equal((await agent.get('/_switchyard/ui/session')).status, 401);
  });

  it('a cookie signed for another admin token (or made up) is not a session', async () => {
    const res = await supertest(sy.app).get('/_switchyard/routes').set('cookie', 'switchyard_session=eyJpZCI6IngiLCJyb2xlIjoiYWRtaW4iLCJuYW1lIjoiIiwiZXhwaXJlc0F0Ijo5OTk5OTk5OTk5OTk5fQ.AAAA');
    assert.equal(res.status, 401);
  });

  it('bad sign-in input is a problem+json 4xx', async () => {
    const malformed = await supertest(sy.app).post('/_switchyard/ui/session').set('content-type', 'application/json').send('{"token":');
    assert.equal(malformed.status, 400);
    assert.match(String(malformed.headers['content-type']), /problem\+json/);
    const badName = await supertest(sy.app).post('/_switchyard/ui/session').send({ token: ADMIN, name: 'a\nb' });
    assert.equal(badName.status, 400);
    const noToken = await supertest(sy.app).post('/_switchyard/ui/session').send({ name: 'x' });
    assert.equal(noToken.status, 400);
    assert.equal(noToken.body.code, 'SWITCHYARD_ADMIN_BAD_INPUT');
  });

  it('the page has a strict CSP and says when it is not built', async () => {
    const res = await supertest(sy.app).get('/_switchyard/ui/');
    assert.equal(res.status, 503);
    assert.equal(res.body.code, 'SWITCHYARD_UI_NOT_BUILT');
    assert.match(String(res.headers['content-security-policy']), /default-src 'none'; script-src 'self'/);
    assert.doesNotMatch(String(res.headers['content-security-policy']), /unsafe-inline|unsafe-eval/);
    assert.equal((await supertest(sy.app).get('/_switchyard/ui/assets/..%2Fsecret.js')).status, 404);
  });

  it('streams live updates (SSE) to a session: retry hint, an update at once and after each change', async () => {
    const agent = supertest.agent(sy.app);
    const { body } = await signIn(agent, ADMIN);
    const server = await listenOn(sy);
    let stream: EventStream | undefined;
    try {
      assert.equal((await fetch(`${server.url}/_switchyard/events`)).status, 401);
      stream = await openEventStream(`${server.url}/_switchyard/events`, { cookie: jarCookie(agent) });
      assert.equal(stream.status, 200);
      assert.match(String(stream.contentType), /^text\/event-stream/);
      await stream.readUntil(/event: update\ndata: .*\n\n/);
      assert.match(stream.text(), /^retry: 2000\n\n/);
      assert.match(stream.text(), /"killSwitch":false/);
      await agent.put('/_switchyard/flags/kill-switch').set('x-csrf-token', body.csrfToken).send({ on: true, reason: 'sse' });
      await stream.readUntil(/"killSwitch":true/);
      await agent.put('/_switchyard/flags/kill-switch').set('x-csrf-token', body.csrfToken).send({ on: false, reason: 'sse' });
    } finally {
      stream?.close();
      await server.close();
    }
  });

  it('signing out ends that session’s open event streams on this instance (saying so), not another session’s', async () => {
    const ana = supertest.agent(sy.app);
    const bob = supertest.agent(sy.app);
    const { body } = await signIn(ana, ADMIN, 'ana');
    await signIn(bob, ADMIN, 'bob');
    const server = await listenOn(sy);
    const streams: EventStream[] = [];
    try {
      const url = `${server.url}/_switchyard/events`;
      const [first, second, other] = await Promise.all([openEventStream(url, { cookie: jarCookie(ana) }), openEventStream(url, { cookie: jarCookie(ana) }), openEventStream(url, { cookie: jarCookie(bob) })]);
      streams.push(first, second, other);
      await Promise.all(streams.map((s) => s.readUntil(/event: update\n/)));
      assert.equal((await ana.delete('/_switchyard/ui/session').set('x-csrf-token', body.csrfToken)).status, 204);
      for (const ended of [first, second]) assert.match(await ended.ended(), /event: session-ended\ndata: \{"reason":"signed-out"\}\n\n$/);
      // Bob's stream still gets updates (a change after the sign-out reaches it).
      const before = other.text().length;
      const kill = (on: boolean) => supertest(sy.app).put('/_switchyard/flags/kill-switch').set('authorization', `Bearer ${ADMIN}`).send({ on, reason: 'is bob still live?' });
      assert.equal((await kill(true)).status, 200);
      await other.readUntil(/"killSwitch":true/, before);
      assert.equal((await kill(false)).status, 200);
      assert.doesNotMatch(other.text(), /session-ended/);
      assert.equal((await fetch(url, { headers: { cookie: jarCookie(ana) } })).status, 401, 'and the cookie cannot open a new one');
    } finally {
      for (const s of streams) s.close();
      await server.close();
    }
  });

  it('a stream ends when its session expires (checked at each beat), and a draining process ends every stream', async () => {
    let now = Date.now();
    const clocked = await createSwitchyard({ flags: FLAGS, adminToken: ADMIN, handlers: { user: (_req, res) => void res.json({}) }, logger: captureLogger(), watch: false, ui: { assetsDir: assets, now: () => now, sessionTtlMs: 60_000 } });
    const server = await listenOn(clocked);
    const streams: EventStream[] = [];
    try {
      const agent = supertest.agent(clocked.app);
      await signIn(agent, ADMIN);
      const url = `${server.url}/_switchyard/events`;
      const expiring = await openEventStream(url, { cookie: jarCookie(agent) });
      const bearer = await openEventStream(url, { authorization: `Bearer ${ADMIN}` });
      streams.push(expiring, bearer);
      await Promise.all(streams.map((s) => s.readUntil(/event: update\n/)));
      now += 60_001;
      assert.match(await expiring.ended(), /event: session-ended\ndata: \{"reason":"expired"\}\n\n$/);
      // A bearer-token stream has no session to end with; draining ends it (the page reconnects elsewhere).
      clocked.readiness.markDraining();
      assert.doesNotMatch(await bearer.ended(), /session-ended/);
    } finally {
      for (const s of streams) s.close();
      await server.close();
      await clocked.close();
    }
  });

  it('without an admin token there is no sign-in', async () => {
    const off = await createSwitchyard({ flags: FLAGS, handlers: { user: (_req, res) => void res.json({}) }, logger: captureLogger(), watch: false });
    try {
      const res = await signIn(supertest.agent(off.app), ADMIN);
      assert.equal(res.status, 404);
      assert.equal(res.body.code, 'SWITCHYARD_ADMIN_DISABLED');
    } finally {
      await off.close();
    }
  });
});
