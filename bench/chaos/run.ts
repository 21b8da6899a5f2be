/**
 * `npm run chaos [-- --rate 300] [--only text] [--no-unleash]`: the fault matrix under steady
 * open-loop load, through two Switchyard processes sharing a private Redis, in front of gunicorn
 * Flask, with Unleash, shadow and the cache on. Prints the table (markdown) and writes it, with
 * the details, to bench/results/chaos.md; exits 1 when a request was lost or misrouted, or an
 * error reached a client that the fault does not document.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { ChaosCluster } from './cluster.js';
import { formatDetails, formatTable } from './report.js';
import { runScenario, SCENARIOS, type ScenarioResult } from './scenarios.js';
import { checkTokenSecrecy, describeSecrecy, type TokenSecrecy } from './token-probe.js';

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
}

const rate = Number(argValue('--rate') ?? 300);
const only = argValue('--only');
const unleash = !process.argv.includes('--no-unleash');
if (!Number.isInteger(rate) || rate < 1) throw new Error(`--rate must be a positive integer, got ${argValue('--rate')}`);

const log = (line: string): void => void process.stderr.write(`chaos: ${line}\n`);
const scenarios = SCENARIOS.filter((s) => (only === undefined || s.name.includes(only)) && (unleash || s.unleash !== true));
const cluster = await ChaosCluster.start({ unleash, log });
const results: ScenarioResult[] = [];
let secrecy: TokenSecrecy | null = null;
try {
  let firstId = 1;
  for (const scenario of scenarios) {
    log(`${scenario.name} …`);
    const result = await runScenario(cluster, scenario, { perSecond: rate, firstId });
    firstId += result.outcomes.length + 1_000;
    results.push(result);
    const f = result.figures;
    log(`  sent ${f.sent}, lost ${f.lost}, misrouted ${f.misrouted}, unexpected errors ${f.unexpectedErrors}, retried ${f.retried}, recovery ${f.recoveryMs ?? 'never'} ms`);
    await delay(2_000);
  }
  secrecy = await checkTokenSecrecy(cluster);
  log(describeSecrecy(secrecy));
} finally {
  const captured = cluster.capturedOutput();
  await cluster.stop();
  const resultsDir = join(dirname(dirname(fileURLToPath(import.meta.url))), 'results');
  mkdirSync(resultsDir, { recursive: true });
  const header = `Chaos run ${new Date().toISOString()}: ${rate} req/s open loop over two Switchyard processes; ${unleash ? 'Unleash on' : 'no Unleash'}.\n\n`;
  const table = `${formatTable(results)}${secrecy === null ? '' : `\n\n${describeSecrecy(secrecy)}`}`;
  writeFileSync(join(resultsDir, 'chaos.md'), `${header}${table}\n\n${formatDetails(results)}\n`);
  writeFileSync(join(resultsDir, 'chaos-output.log'), captured);
  // Every request that failed, was retried or went to a cached route, for a closer look.
  const notable = results.map((r) => ({ name: r.name, outcomes: r.outcomes.filter((o) => o.status !== 200 || o.retried || o.kind === 'cached') }));
  writeFileSync(join(resultsDir, 'chaos-outcomes.json'), JSON.stringify(notable));
  process.stdout.write(`${header}${table}\n`);
}
const failing = results.filter((r) => r.figures.lost > 0 || r.figures.misrouted > 0 || r.figures.unexpectedErrors > 0);
if (failing.length > 0) {
  log(`failed: ${failing.map((r) => r.name).join('; ')}`);
  process.exitCode = 1;
}
if (secrecy === null || secrecy.leaks.length > 0) {
  log(secrecy === null ? 'failed: the token scan did not run' : 'failed: a token appeared in the captured output');
  process.exitCode = 1;
}
