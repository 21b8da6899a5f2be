#!/usr/bin/env node
// Makes `npm test`, `npm run demo` and `npm run bench` work on a fresh clone of a Debian machine:
// installs the npm packages when node_modules is missing or older than the lockfile, and the
// Debian packages the examples and tests run (--python: Flask, Django, gunicorn; --redis:
// redis-server; --test: redis-sentinel, the Prometheus parser and nginx the tests check with, and Chromium for the
// dashboard's browser tests; --bench: wrk, nginx and redis-server for `npm run bench`). As root, or with
// password-less sudo, it installs what is missing and says what; otherwise it prints the exact
// command and exits 1. --dry-run says what it would run and changes nothing.
// Plain Node with no dependencies: it runs before anything is installed.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const dryRun = args.has('--dry-run');

function ensureNpmPackages() {
  const lock = path.join(root, 'package-lock.json');
  const installed = path.join(root, 'node_modules', '.package-lock.json');
  if (existsSync(installed) && !(existsSync(lock) && statSync(lock).mtimeMs > statSync(installed).mtimeMs)) return;
  // A git worktree whose node_modules links to another checkout's (its lockfile is newer only
  // because it was just checked out): `npm ci` would empty the other checkout's packages through
  // the link. Use them as they are and say so.
  const modules = path.join(root, 'node_modules');
  if (existsSync(modules) && lstatSync(modules).isSymbolicLink()) {
    console.error(`switchyard: node_modules is a link (to ${realpathSync(modules)}); not reinstalling through it — run \`npm ci\` there if its packages are out of date`);
    return;
  }
  const command = [existsSync(lock) ? 'ci' : 'install', '--no-audit', '--no-fund'];
  console.error(`switchyard: ${dryRun ? 'would install' : 'installing'} npm packages (npm ${command.join(' ')})…`);
  if (!dryRun) execFileSync('npm', command, { cwd: root, stdio: 'inherit' });
}

/**
 * The interpreter the legacy apps run on: SWITCHYARD_PYTHON alone when set (the operator chose
 * it), else Debian's /usr/bin/python3 or `python3` on PATH.
 */
/** @returns {string[]} */
function pythonCandidates() {
  const chosen = process.env.SWITCHYARD_PYTHON;
  return chosen ? [chosen] : ['/usr/bin/python3', 'python3'];
}

/** @param {string} python @param {string[]} modules */
function imports(python, modules) {
  return spawnSync(python, ['-c', `import ${modules.join(', ')}`], { stdio: 'ignore' }).status === 0;
}

/**
 * The legacy apps need Flask, Django and gunicorn in *one* interpreter (test/support/legacy-apps.ts
 * picks the first candidate that imports all three). Checking each module across candidates would
 * count Flask under pyenv's python3 and Django under Debian's as "present" and install nothing.
 * When no candidate has all three, the Debian packages go into the interpreter they serve: Debian's
 * /usr/bin/python3 (or SWITCHYARD_PYTHON when set), so only the modules it lacks are named.
 * @returns {string[]} the Debian packages that interpreter is missing
 */
function missingLegacyPythonPackages() {
  const wanted = [['flask', 'python3-flask'], ['django', 'python3-django'], ['gunicorn', 'gunicorn']];
  const modules = wanted.map(([module]) => module);
  if (pythonCandidates().some((python) => imports(python, modules))) return [];
  const target = pythonCandidates()[0];
  return wanted.filter(([module]) => !imports(target, [module])).map(([, pkg]) => pkg);
}

/** Like test/support/redis-server.ts: SWITCHYARD_REDIS_SERVER alone when set, else the usual places. */
function hasRedisServer() {
  const chosen = process.env.SWITCHYARD_REDIS_SERVER;
  const candidates = chosen ? [chosen] : ['/usr/bin/redis-server', 'redis-server'];
  return candidates.some((binary) => spawnSync(binary, ['--version'], { stdio: 'ignore' }).status === 0);
}

/** Like test/support/redis-topology.ts: SWITCHYARD_REDIS_SENTINEL alone when set, else Debian's. */
function hasRedisSentinel() {
  const chosen = process.env.SWITCHYARD_REDIS_SENTINEL;
  return (chosen ? [chosen] : ['/usr/bin/redis-sentinel', 'redis-sentinel']).some((binary) => spawnSync(binary, ['--version'], { stdio: 'ignore' }).status === 0);
}

/** The browser the dashboard tests drive: SWITCHYARD_CHROMIUM alone when set, else Debian's. */
function hasChromium() {
  return existsSync(process.env.SWITCHYARD_CHROMIUM || '/usr/bin/chromium');
}

/** What each package is for, said when installing it. */
/** @type {Record<string, string>} */
const NEEDED_FOR = {
  'python3-flask': 'the legacy example apps under gunicorn',
  'python3-django': 'the legacy example apps under gunicorn',
  gunicorn: 'the legacy example apps under gunicorn',
  'redis-server': 'private Redis servers on free ports (never a shared one)',
  'redis-sentinel': 'the Sentinel failover tests start private sentinels next to private Redis servers',
  'python3-prometheus-client': "the metrics test parses /_switchyard/metrics with Prometheus' own parser",
  nginx: "the compose test runs the load balancer's config in front of two Switchyard instances; the benchmark's nginx rows",
  chromium: "the dashboard tests drive Debian's headless Chromium with playwright-core (no browser download)",
  wrk: 'the benchmark (npm run bench) drives every scenario with wrk',
};

/** @returns {string[]} */
function missingDebianPackages() {
  /** @type {string[]} */
  const wanted = [];
  if (args.has('--python')) {
    // Named one by one, so a machine with Flask but no Django installs only Django.
    wanted.push(...missingLegacyPythonPackages());
  }
  if ((args.has('--redis') || args.has('--bench')) && !hasRedisServer()) wanted.push('redis-server');
  // Only the tests need it (a Sentinel set with a failover); the demo runs one plain redis-server.
  if (args.has('--test') && !hasRedisSentinel()) wanted.push('redis-sentinel');
  // test/support/prometheus-parse.ts runs Debian's interpreter, so that is the one to check.
  if (args.has('--test') && !imports('/usr/bin/python3', ['prometheus_client'])) wanted.push('python3-prometheus-client');
  if ((args.has('--test') || args.has('--bench')) && !existsSync('/usr/sbin/nginx')) wanted.push('nginx');
  if (args.has('--test') && !hasChromium()) wanted.push('chromium');
  if (args.has('--bench') && !existsSync('/usr/bin/wrk')) wanted.push('wrk');
  return wanted;
}

/**
 * How apt-get can be run here: directly as root, through password-less sudo, or not at all.
 * @returns {{ prefix: string[] } | null}
 */
function privilege() {
  if (typeof process.getuid === 'function' && process.getuid() === 0) return { prefix: [] };
  if (spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0) return { prefix: ['sudo', '-n'] };
  return null;
}

/** @param {string[]} packages */
function installDebianPackages(packages) {
  const why = [...new Set(packages.map((p) => NEEDED_FOR[p]))].join('; ');
  const manual = `sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y ${packages.join(' ')}`;
  const how = privilege();
  const hasApt = spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
  if (how === null || !hasApt) {
    const reason = hasApt ? 'not root and sudo needs a password' : 'apt-get is not available here';
    console.error(`switchyard: missing Debian packages: ${packages.join(', ')} (${why}).\n  Cannot install them (${reason}). Run:\n    ${manual}`);
    if (pythonCandidates()[0] === process.env.SWITCHYARD_PYTHON) console.error(`  (or install Flask, Django and gunicorn into SWITCHYARD_PYTHON=${process.env.SWITCHYARD_PYTHON})`);
    process.exit(1);
  }
  /** @param {string[]} rest */
  const apt = (...rest) => [...how.prefix, 'apt-get', ...rest];
  const steps = [apt('update', '-qq'), apt('install', '-y', ...packages)];
  console.error(`switchyard: ${dryRun ? 'would install' : 'installing'} from Debian: ${packages.join(', ')} (${why})`);
  for (const step of steps) {
    console.error(`  ${dryRun ? 'would run' : 'running'}: ${step.join(' ')}`);
    if (dryRun) continue;
    const run = spawnSync(step[0], step.slice(1), { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (run.status !== 0) {
      console.error(`switchyard: \`${step.join(' ')}\` failed (exit ${run.status ?? run.signal}). Run it yourself:\n    ${manual}`);
      process.exit(1);
    }
  }
  if (dryRun) return;
  const still = missingDebianPackages();
  if (still.length > 0) {
    console.error(`switchyard: still missing after the install: ${still.join(', ')}${process.env.SWITCHYARD_PYTHON ? ` (SWITCHYARD_PYTHON=${process.env.SWITCHYARD_PYTHON} is checked, not Debian's python3)` : ''}`);
    process.exit(1);
  }
  console.error(`switchyard: installed ${packages.join(', ')}`);
}

ensureNpmPackages();
const missing = missingDebianPackages();
if (missing.length > 0) installDebianPackages(missing);
