import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ROOT } from '../support/cli-process.js';

// Nothing is uninstalled here: a package is made to look missing by pointing the script's own
// knobs at a Python without site-packages (so Flask cannot be imported) and at no redis-server.
const dir = mkdtempSync(path.join(tmpdir(), 'switchyard-deps-'));
chmodSync(dir, 0o755);
const noSitePython = path.join(dir, 'python-without-packages');
writeFileSync(noSitePython, '#!/bin/sh\nexec /usr/bin/python3 -S "$@"\n', { mode: 0o755 });
const LOOKS_MISSING = { SWITCHYARD_PYTHON: noSitePython, SWITCHYARD_REDIS_SERVER: path.join(dir, 'no-redis-server') };
const isRoot = process.getuid?.() === 0;

function ensureDeps(args: string[], env: NodeJS.ProcessEnv = {}, extra: SpawnSyncOptions = {}) {
  const run = spawnSync(process.execPath, [path.join(ROOT, 'scripts/ensure-deps.mjs'), ...args], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', ...extra });
  return { code: run.status, stderr: String(run.stderr), stdout: String(run.stdout) };
}

after(() => rmSync(dir, { recursive: true, force: true }));

describe('scripts/ensure-deps.mjs (what npm test and npm run demo run first)', () => {
  it('says nothing and exits 0 when everything is there', () => {
    const run = ensureDeps(['--python', '--redis', '--test']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, '');
  });

  it('names each missing Debian package and shows the commands it runs (dry run)', () => {
    const run = ensureDeps(['--python', '--redis', '--dry-run'], LOOKS_MISSING);
    assert.equal(run.code, isRoot ? 0 : 1, run.stderr);
    if (!isRoot) return assert.match(run.stderr, /sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y python3-flask python3-django gunicorn redis-server/);
    assert.match(run.stderr, /^switchyard: would install from Debian: python3-flask, python3-django, gunicorn, redis-server \(the legacy example apps under gunicorn; private Redis servers/);
    assert.match(run.stderr, /\n {2}would run: apt-get update -qq\n {2}would run: apt-get install -y python3-flask python3-django gunicorn redis-server\n/);
    // Only what was asked for is checked.
    assert.equal(ensureDeps(['--dry-run'], LOOKS_MISSING).stderr, '');
  });

  it("--test also wants Debian's chromium for the dashboard tests (dry run)", () => {
    const run = ensureDeps(['--test', '--dry-run'], { SWITCHYARD_CHROMIUM: path.join(dir, 'no-chromium') });
    assert.equal(run.code, isRoot ? 0 : 1, run.stderr);
    if (!isRoot) return assert.match(run.stderr, /apt-get install -y chromium/);
    assert.match(run.stderr, /would install from Debian: chromium \(the dashboard tests drive Debian's headless Chromium/);
    assert.match(run.stderr, /would run: apt-get install -y chromium\n/);
  });

  it('without root or password-less sudo: prints the exact command and exits 1', () => {
    // As `nobody` when the tests run as root (CI does); this machine has no password-less sudo for it.
    const run = ensureDeps(['--redis'], LOOKS_MISSING, isRoot ? { uid: 65534, gid: 65534 } : {});
    if (!isRoot && spawnSync('sudo', ['-n', 'true']).status === 0) return; // a developer with password-less sudo would install here
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /missing Debian packages: redis-server .*\n {2}Cannot install them \(not root and sudo needs a password\)\. Run:\n {4}sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y redis-server\n/);
  });

  it('with no apt-get (not Debian): prints the command and exits 1, installing nothing', () => {
    const run = ensureDeps(['--python', '--redis'], { ...LOOKS_MISSING, PATH: path.join(dir, 'empty-path') });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /Cannot install them \(apt-get is not available here\)\. Run:\n {4}sudo apt-get update && .*apt-get install -y python3-flask python3-django gunicorn redis-server/);
    assert.match(run.stderr, /or install Flask, Django and gunicorn into SWITCHYARD_PYTHON=/);
  });
});
