import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import supertest from 'supertest';
import { parse } from 'yaml';
import { MemoryIgnoreRuleStore, type IgnoreRuleStore } from '../../src/shadow/ignore-rule-store.js';
import { RedisIgnoreRuleStore } from '../../src/shadow/redis-ignore-rule-store.js';
import { FileIgnoreRuleStore } from '../../src/shadow/file-ignore-rule-store.js';
import { startFlask, type LegacyServer } from '../support/legacy-apps.js';
import { quietCatalogFlags, quietCatalogHandlers } from '../support/quiet-catalog.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';
import { captureLogger, flagsText, listen, type Listening } from '../support/switchyard-harness.js';

const ADMIN = 'rules-admin-token-0123456789abc';
let redis: RedisServer;

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await delay(50);
  }
  assert.fail(`never happened: ${what}`);
}

function contract(name: string, make: () => IgnoreRuleStore | Promise<IgnoreRuleStore>): void {
  describe(`ignore-rule store contract: ${name}`, () => {
    it('approves, rejects and withdraws, with an audit entry (from → to) for each, newest first', async () => {
      const store = await make();
      await store.start();
      try {
        let told = 0;
        store.onChange(() => told++);
        const v0 = store.version();
        const at = '2026-12-02T14:00:00.000Z';
        const first = await store.decide({ route: 'r', field: '/ts', decision: 'approved', by: 'ana', at, reason: 'generation time' });
        assert.deepEqual({ action: first.action, from: first.from, to: first.to }, { action: 'approve', from: null, to: 'approved' });
        await store.decide({ route: 'r', field: '/price', decision: 'rejected', by: 'bo', at, reason: 'a real bug' });
        assert.deepEqual(
          store.decisions().map((d) => [d.route, d.field, d.decision, d.by, d.reason]).sort(),
          [['r', '/price', 'rejected', 'bo', 'a real bug'], ['r', '/ts', 'approved', 'ana', 'generation time']],
        );
        const withdrawn = await store.decide({ route: 'r', field: '/ts', decision: null, by: 'ana', at, reason: 'undo' });
        assert.deepEqual({ action: withdrawn.action, from: withdrawn.from, to: withdrawn.to }, { action: 'withdraw', from: 'approved', to: null });
        assert.deepEqual(store.decisions().map((d) => d.field), ['/price']);
        assert.deepEqual((await store.audit(10)).map((e) => e.action), ['withdraw', 'reject', 'approve']);
        assert.deepEqual((await store.audit(1)).map((e) => e.action), ['withdraw']);
        assert.ok(store.version() > v0);
        assert.ok(told >= 3);
      } finally {
        await store.close();
      }
    });
  });
}

contract('memory', () => new MemoryIgnoreRuleStore());
// Each run in a fresh directory: the file does not exist yet (the store creates its directory too).
const rulesDir = mkdtempSync(path.join(tmpdir(), 'switchyard-rules-'));
contract('file', () => FileIgnoreRuleStore.load(path.join(mkdtempSync(path.join(rulesDir, 'run-')), '.switchyard', 'shadow-rules.json')));
const namespace = `t-${randomUUID().slice(0, 8)}`;
contract('redis', () => new RedisIgnoreRuleStore({ url: redis.url, namespace: `${namespace}-${randomUUID().slice(0, 4)}`, logger: captureLogger() }));

describe('runtime ignore rules across instances (real Flask, real Redis)', () => {
  let flask: LegacyServer;
  let a: Listening;
  let b: Listening;
  const handlers = quietCatalogHandlers;
  const ns = `rules-${randomUUID().slice(0, 8)}`;
  const start = async (): Promise<Listening> => {
    const saved = process.env['REDIS_URL'];
    process.env['REDIS_URL'] = redis.url;
    try {
      return await listen({
        adminToken: ADMIN,
        handlers,
        logger: captureLogger(),
        shadow: { loopUtilization: () => 0 },
        flags: flagsText(
          quietCatalogFlags(
            flask.url,
            `settings:
  shadow: { namespace: ${ns} }`,
            `  - name: plain
    path: /hello
    legacy: { upstream: flask }`,
          ),
        ),
      });
    } finally {
      if (saved === undefined) delete process.env['REDIS_URL'];
      else process.env['REDIS_URL'] = saved;
    }
  };
  const admin = (l: Listening) => ({
    get: (p: string) => supertest(l.url).get(p).set('authorization', `Bearer ${ADMIN}`),
    post: (p: string, body: object) => supertest(l.url).post(p).set('authorization', `Bearer ${ADMIN}`).send(body),
  });
  const shadowCounts = async (l: Listening) => (await admin(l).get('/_switchyard/shadow/quiet')).body as { compared: number; mismatched: number };
  const hit = async (l: Listening, n: number) => {
    const before = (await shadowCounts(l)).compared;
    for (let i = 0; i < n; i++) await (await fetch(`${l.url}/catalog`)).arrayBuffer();
    await until(async () => (await shadowCounts(l)).compared >= before + n, `${n} comparisons recorded`);
  };

  before(async () => {
    flask = await startFlask({ workers: 2 });
    [a, b] = [await start(), await start()];
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await flask?.stop();
  });

  it('proposes /generated_at with its evidence; an approval on one instance makes the other stop mismatching', async () => {
    await hit(a, 8);
    const proposals = (await admin(b).get('/_switchyard/shadow-rules/proposals?route=quiet')).body.proposals as { field: string; reasons: string[]; evidence: { raw: number } }[];
    assert.deepEqual(proposals.map((p) => p.field), ['/generated_at'], '/items/*/updated_at is ignored in flags/ already');
    assert.ok(proposals[0]!.reasons.includes('timestamp'));
    assert.ok(proposals[0]!.evidence.raw >= 8);

    const approved = await admin(a).post('/_switchyard/shadow-rules/quiet/approve', { field: '/generated_at', reason: 'generation time', by: 'ana' });
    assert.equal(approved.status, 200);
    assert.equal(approved.body.scope, 'all-instances');
    assert.deepEqual(approved.body.audit.to, 'approved');
    await until(async () => ((await admin(b).get('/_switchyard/shadow-rules')).body.routes[0].approved as string[]).includes('/generated_at'), 'B knows the rule');

    const before = await shadowCounts(b);
    await hit(b, 6);
    const after = await shadowCounts(b);
    assert.equal(after.mismatched, before.mismatched, 'B compared 6 more, none mismatched');
    assert.deepEqual((await admin(b).get('/_switchyard/shadow-rules/proposals?route=quiet')).body.proposals, []);

    const yaml = parse((await admin(b).get('/_switchyard/shadow-rules/export')).text) as { routes: { name: string; shadow: { ignore: string[] } }[] };
    assert.deepEqual(yaml.routes, [{ name: 'quiet', shadow: { ignore: ['/items/*/updated_at', '/generated_at'] } }]);
  });

  it('the rule survives a restart (kept in Redis), and the audit log has it', async () => {
    await b.close();
    b = await start();
    const routes = (await admin(b).get('/_switchyard/shadow-rules')).body.routes as { route: string; approved: string[] }[];
    assert.deepEqual(routes.find((r) => r.route === 'quiet')?.approved, ['/generated_at']);
    const audit = (await admin(b).get('/_switchyard/shadow-rules/audit')).body.entries;
    assert.equal(audit[0].action, 'approve');
    assert.equal(audit[0].by, 'ana');
    assert.equal(audit[0].reason, 'generation time');
  });

  it('a rejected field is not proposed again; a withdrawn one may be', async () => {
    await admin(a).post('/_switchyard/shadow-rules/quiet/withdraw', { field: '/generated_at', reason: 'try again' });
    await until(async () => (await admin(a).get('/_switchyard/shadow-rules/proposals?route=quiet')).body.proposals.length === 1, 'proposed again');
    await admin(a).post('/_switchyard/shadow-rules/quiet/reject', { field: '/generated_at', reason: 'we want to see it' });
    assert.deepEqual((await admin(a).get('/_switchyard/shadow-rules/proposals?route=quiet')).body.proposals, []);
    assert.deepEqual((await admin(a).get('/_switchyard/shadow-rules')).body.routes[0].rejected, ['/generated_at']);
  });

  it('bad input is a problem+json 4xx and changes nothing', async () => {
    const cases: [string, object, number, string][] = [
      ['/_switchyard/shadow-rules/nope/approve', { field: '/a', reason: 'r' }, 404, 'SWITCHYARD_ADMIN_UNKNOWN_ROUTE'],
      ['/_switchyard/shadow-rules/plain/approve', { field: '/a', reason: 'r' }, 409, 'SWITCHYARD_ADMIN_CONFLICT'],
      ['/_switchyard/shadow-rules/quiet/approve', { field: 'generated_at', reason: 'r' }, 400, 'SWITCHYARD_ADMIN_BAD_INPUT'],
      ['/_switchyard/shadow-rules/quiet/approve', { field: '/a', reason: 'r', extra: 1 }, 400, 'SWITCHYARD_ADMIN_BAD_INPUT'],
      ['/_switchyard/shadow-rules/quiet/approve', { field: '/items/*/updated_at', reason: 'r' }, 409, 'SWITCHYARD_ADMIN_CONFLICT'],
      ['/_switchyard/shadow-rules/quiet/approve', { field: '/a', reason: 'x\ny' }, 400, 'SWITCHYARD_ADMIN_BAD_INPUT'],
    ];
    const version = (await admin(a).get('/_switchyard/shadow-rules')).body.version;
    for (const [path, body, status, code] of cases) {
      const res = await admin(a).post(path, body);
      assert.equal(res.status, status, `${path} ${JSON.stringify(body)}`);
      assert.equal(res.body.code, code);
    }
    assert.equal((await admin(a).get('/_switchyard/shadow-rules')).body.version, version);
  });

  it('while Redis is down a decision is refused with 503 and the known rules stay in force', async () => {
    await redis.kill();
    try {
      const res = await admin(a).post('/_switchyard/shadow-rules/quiet/approve', { field: '/total', reason: 'redis is down' });
      assert.equal(res.status, 503);
      assert.equal(res.body.code, 'SWITCHYARD_RULES_STORE_UNAVAILABLE');
      assert.deepEqual((await admin(a).get('/_switchyard/shadow-rules')).body.routes[0].rejected, ['/generated_at']);
    } finally {
      await redis.restart();
    }
  });
});

before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis?.stop();
  rmSync(rulesDir, { recursive: true, force: true });
});
