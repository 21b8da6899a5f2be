import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileFlags } from '../../src/config/validate-flags.js';
import { CANARY_POLICY_DEFAULTS } from '../../src/config/defaults.js';
import { formatConfigIssue } from '../../src/errors/switchyard-error.js';
import type { FlagsConfig } from '../../src/config/types.js';

const handlerNames = new Set(['user']);
const route = (canary: string, extra = ''): string =>
  `upstreams:\n  flask: { url: "http://127.0.0.1:8001" }\nroutes:\n  - name: users\n    path: /users/:id\n    legacy: { upstream: flask }\n    new: { handler: user }\n${extra}    canary:\n${canary}`;

function compile(text: string): { config: FlagsConfig | null; problems: string[] } {
  const result = compileFlags([{ file: 'routes.yaml', text }], { handlerNames });
  return result.ok ? { config: result.config, problems: [] } : { config: null, problems: result.issues.map(formatConfigIssue) };
}

function expectProblem(text: string, expected: RegExp): void {
  const { problems } = compile(text);
  assert.ok(problems.some((p) => expected.test(p)), `expected ${expected} in:\n${problems.join('\n') || '(no problems)'}`);
}

describe('canary policy in flags/', () => {
  it('the issue example reads as written: durations in ms, percentages as fractions', () => {
    const { config, problems } = compile(
      route(
        [
          '      shadowFirst: { percentage: 100, minCompared: 500, bake: 10m }',
          '      steps: [1, 5, 25, 50, 100]',
          '      bake: 10m',
          '      minRequests: 200',
          '      gates:',
          '        contentMismatch: { max: 0.5% }',
          '        newFieldDivergence: block',
          '        errorRate: { maxIncrease: 0.5% }',
          '        latency: { p99Ratio: 1.2, test: mann-whitney, confidence: 0.98 }',
          '      onFailure: rollback',
          '      inconclusive: { extendBakes: 3, then: pause }',
          '',
        ].join('\n'),
      ),
    );
    assert.deepEqual(problems, []);
    const policy = config?.routes[0]?.canary;
    assert.deepEqual(policy, CANARY_POLICY_DEFAULTS);
    // The route shadows although it has no shadow block: the content gates need the comparisons.
    assert.equal(config?.routes[0]?.shadow?.percentage, 100);
  });

  it('an empty block is the defaults; numbers are percent too; short durations for tests', () => {
    const empty = compile(route('      {}\n'.replace('      ', '      ')).replace('canary:\n      {}', 'canary: {}'));
    assert.deepEqual(empty.problems, []);
    assert.deepEqual(empty.config?.routes[0]?.canary, CANARY_POLICY_DEFAULTS);
    const { config, problems } = compile(route('      interval: 200ms\n      bake: 2s\n      shadowFirst: false\n      gates: { errorRate: { maxIncrease: 1 }, latency: { tolerance: 10% } }\n'));
    assert.deepEqual(problems, []);
    const policy = config?.routes[0]?.canary;
    assert.equal(policy?.intervalMs, 200);
    assert.equal(policy?.bakeMs, 2000);
    assert.equal(policy?.shadowFirst, null);
    assert.equal(policy?.gates.errorRate.maxIncrease, 0.01);
    assert.equal(policy?.gates.latency.tolerance, 0.1);
  });

  it('malformed policies name file:line:field', () => {
    expectProblem(route('      bake: 10 minutes\n'), /^routes\.yaml:9: routes\[0\]\.canary\.bake: must match pattern .*duration/);
    expectProblem(route('      steps: [5, 1]\n'), /^routes\.yaml:9: routes\[0\]\.canary\.steps\[1\]: steps must increase: 1 comes after 5$/);
    expectProblem(route('      steps: [0, 150]\n'), /routes\[0\]\.canary\.steps\[0\]: must be >= 1/);
    expectProblem(route('      gates: { contentMismatch: { max: half } }\n'), /^routes\.yaml:9: routes\[0\]\.canary\.gates\.contentMismatch\.max: must match pattern/);
    expectProblem(route('      gates: { errorRate: { maxIncrease: 120 } }\n'), /canary\.gates\.errorRate\.maxIncrease: must be < 100/);
    expectProblem(route('      onFailure: panic\n'), /canary\.onFailure: must be one of "rollback", "pause"/);
    expectProblem(route('      gates: { latency: { test: t-test } }\n'), /canary\.gates\.latency\.test: must be one of "mann-whitney"/);
    expectProblem(route('      bakee: 1m\n'), /^routes\.yaml:9: routes\[0\]\.canary\.bakee: unknown option$/);
    expectProblem(route('      shadowFirst: { percentage: 50 }\n', '    shadow: { percentage: 100 }\n'), /canary\.shadowFirst\.percentage: 50 differs from shadow\.percentage \(100\)/);
  });

  it('a route with one side cannot have a canary', () => {
    const text = 'upstreams:\n  flask: { url: "http://127.0.0.1:8001" }\nroutes:\n  - name: a\n    path: /a\n    legacy: { upstream: flask }\n    canary: {}\n';
    expectProblem(text, /^routes\.yaml:7: routes\[0\]\.canary: the autopilot moves traffic from `legacy` to `new`: the route needs both sides$/);
  });

  it('settings.canary: webhook and lease', () => {
    const text = `${route('      {}\n').replace('canary:\n      {}', 'canary: {}')}settings:\n  canary: { webhook: { url: "http://127.0.0.1:9/hook" }, leaseMs: 3000 }\n`;
    const { config, problems } = compile(text);
    assert.deepEqual(problems, []);
    assert.deepEqual(config?.settings.canary.webhook, { url: 'http://127.0.0.1:9/hook', retries: 3, timeoutMs: 2000 });
    assert.equal(config?.settings.canary.leaseMs, 3000);
    expectProblem(`${route('      {}\n').replace('canary:\n      {}', 'canary: {}')}settings:\n  canary: { webhook: { url: "ftp://x" } }\n`, /settings\.canary\.webhook\.url: must match pattern/);
  });
});
