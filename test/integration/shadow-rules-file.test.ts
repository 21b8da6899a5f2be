/**
 * Ignore-rule decisions on the embedded default (no Redis) kept in a file next to the flags:
 * an approved rule survives a restart and the differ still ignores the field (real gunicorn
 * Flask); a write that fails is a 503 that changes nothing; a damaged file stops the start; the
 * flags loader and watcher pass over the file.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import supertest from 'supertest';
import { createSwitchyard } from '../../src/app.js';
import { readFlagsDir } from '../../src/config/flags-files.js';
import { watchFlagsDir } from '../../src/config/flags-watcher.js';
import { ConfigError } from '../../src/errors/switchyard-error.js';
import { FileIgnoreRuleStore } from '../../src/shadow/file-ignore-rule-store.js';
import { startFlask, type LegacyServer } from '../support/legacy-apps.js';
import { quietCatalogFlags, quietCatalogHandlers } from '../support/quiet-catalog.js';
import { captureLogger, listen, type Listening } from '../support/switchyard-harness.js';

const ADMIN = 'rules-file-admin-token-0123456789';
const handlers = quietCatalogHandlers;

let flask: LegacyServer;
let dir: string;

const routesYaml = (settings = '') => quietCatalogFlags(flask.url, settings);

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await delay(50);
  }
  assert.fail(`never happened: ${what}`);
}

/** No Redis anywhere: the embedded default, whatever the environment says. */
const start = (flagsDir: string): Promise<Listening> => listen({ flagsDir, adminToken: ADMIN, handlers, logger: captureLogger(), redis: null, shadow: { loopUtilization: () => 0 } });
const admin = (l: Listening) => ({
  get: (p: string) => supertest(l.url).get(p).set('authorization', `Bearer ${ADMIN}`),
  post: (p: string, body: object) => supertest(l.url).post(p).set('authorization', `Bearer ${ADMIN}`).send(body),
});
const shadowCounts = async (l: Listening) => (await admin(l).get('/_switchyard/shadow/quiet')).body as { compared: number; mismatched: number };
async function hit(l: Listening, n: number): Promise<void> {
  const before = (await shadowCounts(l)).compared;
  for (let i = 0; i < n; i++) await (await fetch(`${l.url}/catalog`)).arrayBuffer();
  await until(async () => (await shadowCounts(l)).compared >= before + n, `${n} comparisons recorded`);
}
const rulesOf = async (l: Listening) => (await admin(l).get('/_switchyard/shadow-rules')).body as { scope: string; store: string; version: number; routes: { route: string; approved: string[]; rejected: string[] }[] };

before(async () => {
  flask = await startFlask({ workers: 2 });
  dir = await mkdtemp(path.join(tmpdir(), 'switchyard-rules-file-'));
});
after(async () => {
  await flask?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('ignore-rule decisions in a file on the embedded default (real Flask)', () => {
  let flagsDir: string;
  let l: Listening | undefined;
  const file = () => path.join(flagsDir, '.switchyard', 'shadow-rules.json');
  before(async () => {
    flagsDir = await mkdtemp(path.join(dir, 'flags-'));
    await writeFile(path.join(flagsDir, 'routes.yaml'), routesYaml());
  });
  after(async () => {
    await l?.close();
  });

  it('an approved rule survives a restart: a new instance on the same flags dir still ignores the field', async () => {
    l = await start(flagsDir);
    await hit(l, 4);
    assert.ok((await shadowCounts(l)).mismatched >= 4, '/generated_at differs on every call');
    const approved = await admin(l).post('/_switchyard/shadow-rules/quiet/approve', { field: '/generated_at', reason: 'generation time', by: 'ana' });
    assert.equal(approved.status, 200);
    assert.deepEqual([approved.body.scope, approved.body.store], ['this-process', 'file']);
    await admin(l).post('/_switchyard/shadow-rules/quiet/reject', { field: '/total', reason: 'a real count', by: 'bo' });
    assert.match(await readFile(file(), 'utf8'), /"\/generated_at"/);
    await l.close();

    l = await start(flagsDir);
    const rules = await rulesOf(l);
    assert.equal(rules.store, 'file');
    assert.deepEqual(rules.routes.find((r) => r.route === 'quiet'), { route: 'quiet', file: ['/items/*/updated_at'], approved: ['/generated_at'], rejected: ['/total'] });
    const audit = (await admin(l).get('/_switchyard/shadow-rules/audit')).body.entries as { action: string; by: string; reason: string; field: string }[];
    assert.deepEqual(audit.map((e) => [e.action, e.field, e.by, e.reason]), [['reject', '/total', 'bo', 'a real count'], ['approve', '/generated_at', 'ana', 'generation time']]);
    // The restarted differ ignores /generated_at: fresh comparisons all match.
    await hit(l, 6);
    assert.deepEqual(await shadowCounts(l).then((c) => [c.compared, c.mismatched]), [6, 0]);
  });

  it('a decision the file cannot take is refused with 503 and changes nothing (memory, file and audit as they were)', async () => {
    assert.ok(l !== undefined);
    const before = await rulesOf(l);
    const text = await readFile(file(), 'utf8');
    // A directory where the file goes: the rename over it fails (whoever runs the test, root too).
    await rm(file());
    await mkdir(file());
    try {
      const res = await admin(l).post('/_switchyard/shadow-rules/quiet/withdraw', { field: '/generated_at', reason: 'disk trouble' });
      assert.equal(res.status, 503);
      assert.equal(res.body.code, 'SWITCHYARD_RULES_STORE_UNAVAILABLE');
      assert.match(res.body.detail, /shadow-rules\.json cannot be written.*nothing was changed/);
      assert.deepEqual(await rulesOf(l), before);
      assert.equal((await admin(l).get('/_switchyard/shadow-rules/audit')).body.entries.length, 2);
      assert.deepEqual(await readdir(path.dirname(file())), ['shadow-rules.json'], 'no temp file left behind');
    } finally {
      await rm(file(), { recursive: true });
      await writeFile(file(), text);
    }
    // The store works again once the file can be written; the refused withdrawal never happened.
    const res = await admin(l).post('/_switchyard/shadow-rules/quiet/withdraw', { field: '/total', reason: 'disk is fine again' });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.rules.approved, ['/generated_at']);
    const kept = JSON.parse(await readFile(file(), 'utf8')) as { decisions: { field: string }[]; audit: { action: string; field: string }[] };
    assert.deepEqual(kept.decisions.map((d) => d.field), ['/generated_at']);
    assert.deepEqual(kept.audit.map((e) => `${e.action} ${e.field}`), ['withdraw /total', 'reject /total', 'approve /generated_at']);
  });
});

describe('the rules file at start-up', () => {
  it('a damaged file stops the start, naming the file and what is wrong with it', async () => {
    const cases: [string, RegExp][] = [
      ['{"format": "switchyard-shadow-rules/1", "decisions": [', /not JSON/],
      ['[]', /not a JSON object/],
      ['{"format": "something-else", "decisions": [], "audit": []}', /`format` is "something-else"/],
      ['{"format": "switchyard-shadow-rules/1", "decisions": [{"route": "quiet", "field": "/a", "decision": "maybe", "by": "x", "at": "t", "reason": "r"}], "audit": []}', /decisions\[0\] `decision` is neither/],
    ];
    for (const [text, reason] of cases) {
      const flagsDir = await mkdtemp(path.join(dir, 'damaged-'));
      await writeFile(path.join(flagsDir, 'routes.yaml'), routesYaml());
      const file = path.join(flagsDir, '.switchyard', 'shadow-rules.json');
      await mkdir(path.dirname(file));
      await writeFile(file, text);
      await assert.rejects(createSwitchyard({ flagsDir, handlers, watch: false, logger: captureLogger(), redis: null }), (error: unknown) => {
        assert.ok(error instanceof ConfigError, String(error));
        assert.equal(error.code, 'SWITCHYARD_CONFIG_INVALID');
        assert.ok(error.message.includes(file), error.message);
        assert.match(error.message, reason);
        return true;
      });
    }
  });

  it('rulesFile: null keeps decisions in memory (no file written); an absolute path is used as given', async () => {
    const flagsDir = await mkdtemp(path.join(dir, 'memory-'));
    await writeFile(path.join(flagsDir, 'routes.yaml'), routesYaml('settings:\n  shadow: { rulesFile: null }'));
    const memory = await start(flagsDir);
    try {
      const res = await admin(memory).post('/_switchyard/shadow-rules/quiet/approve', { field: '/generated_at', reason: 'r' });
      assert.deepEqual([res.status, res.body.store], [200, 'memory']);
      assert.equal(existsSync(path.join(flagsDir, '.switchyard')), false);
    } finally {
      await memory.close();
    }
    const elsewhere = path.join(dir, 'elsewhere', 'rules.json');
    await writeFile(path.join(flagsDir, 'routes.yaml'), routesYaml(`settings:\n  shadow: { rulesFile: "${elsewhere}" }`));
    const absolute = await start(flagsDir);
    try {
      const res = await admin(absolute).post('/_switchyard/shadow-rules/quiet/approve', { field: '/generated_at', reason: 'r' });
      assert.deepEqual([res.status, res.body.store], [200, 'file']);
      assert.match(await readFile(elsewhere, 'utf8'), /"\/generated_at"/);
    } finally {
      await absolute.close();
    }
  });

  it('an unknown key next to rulesFile is refused like any other (one schema)', async () => {
    const flagsDir = await mkdtemp(path.join(dir, 'unknown-'));
    await writeFile(path.join(flagsDir, 'routes.yaml'), routesYaml('settings:\n  shadow: { rulesFiles: x.json }'));
    await assert.rejects(createSwitchyard({ flagsDir, handlers, watch: false, logger: captureLogger(), redis: null }), /rulesFiles/);
  });
});

describe('the flags loader and watcher pass over the rules file', () => {
  it('writing decisions into <flags>/.switchyard/ neither reloads the flags nor is read as flags; a flags edit still reloads', async () => {
    const flagsDir = await mkdtemp(path.join(dir, 'watched-'));
    await writeFile(path.join(flagsDir, 'routes.yaml'), routesYaml());
    let reloads = 0;
    // Polling off (an hour): only the watcher's events count here.
    const stop = watchFlagsDir(flagsDir, () => reloads++, captureLogger(), 20, 3_600_000);
    try {
      const store = await FileIgnoreRuleStore.load(path.join(flagsDir, '.switchyard', 'shadow-rules.json'));
      for (const field of ['/a', '/b', '/c']) await store.decide({ route: 'quiet', field, decision: 'approved', by: 'ana', at: new Date().toISOString(), reason: 'r' });
      // Well past the 20 ms debounce: a reload the decisions set off would have run by now.
      await delay(500);
      assert.equal(reloads, 0, 'the rules file is not a flags change');
      assert.deepEqual((await readFlagsDir(flagsDir)).map((f) => path.basename(f.file)), ['routes.yaml']);
      await writeFile(path.join(flagsDir, 'routes.yaml'), routesYaml('# edited'));
      await until(() => Promise.resolve(reloads > 0), 'a flags edit reloads');
    } finally {
      stop();
    }
  });
});
