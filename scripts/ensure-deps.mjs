#!/usr/bin/env node
// Makes `npm test`, `npm run demo` and `npm run bench` work on a fresh clone: installs the npm
// packages when node_modules is missing or older than the lockfile, and (with --python) checks
// that Debian's Flask, Django and gunicorn are there, saying exactly how to get them if not.
// Plain Node with no dependencies: it runs before anything is installed.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const lock = path.join(root, 'package-lock.json');
const installed = path.join(root, 'node_modules', '.package-lock.json');

if (!existsSync(installed) || (existsSync(lock) && statSync(lock).mtimeMs > statSync(installed).mtimeMs)) {
  console.error('switchyard: installing npm packages (npm ci)…');
  execFileSync('npm', [existsSync(lock) ? 'ci' : 'install', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
}

if (process.argv.includes('--python')) {
  const candidates = [process.env.SWITCHYARD_PYTHON, '/usr/bin/python3', 'python3'].filter(Boolean);
  const ok = candidates.some((python) => spawnSync(python, ['-c', 'import flask, django, gunicorn'], { stdio: 'ignore' }).status === 0);
  if (process.argv.includes('--redis') && spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status !== 0) {
    console.error('switchyard: the cache, shadow and flag tests start private Redis servers and need redis-server:\n    sudo apt-get install -y redis-server');
    process.exit(1);
  }
  if (!ok) {
    console.error(
      'switchyard: the legacy example apps need Flask, Django and gunicorn for Debian\'s python3, and none of\n' +
        `  ${candidates.join(', ')} can import them. Install them with:\n` +
        '    sudo apt-get update && sudo apt-get install -y python3-flask python3-django gunicorn\n' +
        '  (or point SWITCHYARD_PYTHON at an interpreter that has them).',
    );
    process.exit(1);
  }
}
