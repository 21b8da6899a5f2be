import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { handlers } from '../../examples/new-handlers.js';
import { compileFlags } from '../../src/config/validate-flags.js';
import { readServiceOptions } from '../../src/config/env-options.js';
import { ConfigError, formatConfigIssue } from '../../src/errors/switchyard-error.js';
import { schemaText, SCHEMA_FILE } from '../../scripts/write-schema.js';

const UPSTREAMS = 'upstreams:\n  flask: { url: "http://127.0.0.1:8001" }\n';
const handlerNames = new Set(['hello']);

/** Compiles and returns the problems as `file:line: field: reason` lines. */
function problems(files: Record<string, string>): string[] {
  const result = compileFlags(Object.entries(files).map(([file, text]) => ({ file, text })), { handlerNames });
  return result.ok ? [] : result.issues.map(formatConfigIssue);
}

function expectProblem(files: Record<string, string>, expected: RegExp): void {
  const found = problems(files);
  assert.ok(found.some((p) => expected.test(p)), `expected ${expected} in:\n${found.join('\n') || '(no problems)'}`);
}

describe('flags validation: every class of error names file, field (and line) and reason', () => {
  it('YAML syntax', () => expectProblem({ 'a.yaml': 'routes: [\n' }, /^a\.yaml:\d+: \(yaml\): /));
  it('duplicate keys', () => expectProblem({ 'a.yaml': `${UPSTREAMS}upstreams: {}\n` }, /^a\.yaml:3: \(yaml\): .*unique/i));
  it('unknown top-level key', () => expectProblem({ 'a.yaml': 'rutes: []\n' }, /^a\.yaml:1: rutes: unknown option$/));
  it('unknown route key', () => expectProblem({ 'a.yaml': `${UPSTREAMS}routes:\n  - name: a\n    path: /a\n    legacy: { upstream: flask }\n    shadoww: true\n` }, /^a\.yaml:7: routes\[0\]\.shadoww: unknown option$/));
  it('missing required field', () => expectProblem({ 'a.yaml': `${UPSTREAMS}routes:\n  - name: a\n    legacy: { upstream: flask }\n` }, /routes\[0\]\.path: is required/));
  it('wrong type', () => expectProblem({ 'a.yaml': 'upstreams:\n  flask: { url: "http://x", maxInFlight: "four" }\n' }, /^a\.yaml:2: upstreams\.flask\.maxInFlight: must be integer/));
  it('out of range percentage', () => expectProblem({ 'a.yaml': `${UPSTREAMS}routes:\n  - name: a\n    path: /a\n    legacy: { upstream: flask }\n    new: { handler: hello }\n    mode: rollout\n    rollout: { percentage: 101 }\n` }, /routes\[0\]\.rollout\.percentage: must be <= 100/));
  it('bad enum lists the allowed values', () => expectProblem({ 'a.yaml': `${UPSTREAMS}routes:\n  - name: a\n    path: /a\n    legacy: { upstream: flask }\n    mode: canary\n` }, /routes\[0\]\.mode: must be one of "legacy", "new", "rollout"/));
  it('maxBodyBytes: a negative or fractional size, or one past 1 GiB, names the field', () => {
    expectProblem({ 'a.yaml': `${UPSTREAMS}routes:\n  - name: a\n    path: /a\n    legacy: { upstream: flask }\n    maxBodyBytes: -1\n` }, /^a\.yaml:7: routes\[0\]\.maxBodyBytes: must be >= 0/);
    expectProblem({ 'a.yaml': `${UPSTREAMS}routes:\n  - name: a\n    path: /a\n    legacy: { upstream: flask }\n    maxBodyBytes: 1.5\n` }, /routes\[0\]\.maxBodyBytes: must be integer/);
    expectProblem({ 'a.yaml': 'settings:\n  maxBodyBytes: 2000000000\n' }, /^a\.yaml:2: settings\.maxBodyBytes: must be <= 1073741824/);
    const ok = compileFlags([{ file: 'a.yaml', text: `${UPSTREAMS}routes:\n  - name: a\n    path: /a\n    legacy: { upstream: flask }\n    maxBodyBytes: 1024\n  - name: b\n    path: /b\n    legacy: { upstream: flask }\n    maxBodyBytes: null\n  - name: c\n    path: /c\n    legacy: { upstream: flask }\n` }], { handlerNames });
    assert.ok(ok.ok);
    assert.deepEqual(ok.config.routes.map((r) => r.maxBodyBytes), [1024, null, undefined]);
    assert.equal(ok.config.settings.maxBodyBytes, null, 'no limit unless configured');
  });
  it('bad url', () => expectProblem({ 'a.yaml': 'upstreams:\n  flask: { url: "ftp://x" }\n' }, /upstreams\.flask\.url: must match pattern .*http or https/));
  it('upstream URLs that parse badly, carry a query or credentials', () => {
    for (const [url, reason] of [
      ['http://[', /is not a valid URL/],
      ['http://127.0.0.1:99999', /is not a valid URL/],
      ['http://u:p@host', /credentials/],
      ['http://host/?q=1', /query or fragment/],
    ] as const) {
      expectProblem({ 'a.yaml': `upstreams:\n  flask: { url: "${url}" }\n` }, new RegExp(`^a\\.yaml:2: upstreams\\.flask\\.url: .*${reason.source}`));
    }
  });
  it('a rollout block without mode rollout is accepted with a warning', () => {
    const result = compileFlags([{ file: 'a.yaml', text: `${UPSTREAMS}routes:\n  - name: a\n    path: /a\n    legacy: { upstream: flask }\n    new: { handler: hello }\n    rollout: { percentage: 30 }\n` }], { handlerNames });
    assert.ok(result.ok);
    assert.ok(result.warnings.some((w) => /^a\.yaml:8: routes\[0\]\.rollout: .*not in force/.test(w)), result.warnings.join('\n'));
  });
  it('bad upstream name', () => expectProblem({ 'a.yaml': 'upstreams:\n  Flask App: { url: "http://x" }\n' }, /upstreams: invalid name "Flask App"/));
  it('unknown upstream, listing the defined ones', () => expectProblem({ 'a.yaml': `${UPSTREAMS}routes:\n  - name: a\n    path: /a\n    legacy: { upstream: flsk }\n` }, /^a\.yaml:6: routes\[0\]\.legacy\.upstream: no upstream named `flsk` \(defined: flask\)/));
  it('unregistered handler', () => expectProblem({ 'a.yaml': `${UPSTREAMS}routes:\n  - name: a\n    path: /a\n    new: { handler: helo }\n` }, /routes\[0\]\.new\.handler: no handler named `helo` is registered \(registered: hello\)/));
  it('new side with both handler and upstream', () => expectProblem({ 'a.yaml': `${UPSTREAMS}routes:\n  - name: a\n    path: /a\n    new: { handler: hello, upstream: flask }\n` }, /routes\[0\]\.new: give exactly one of/));
  it('route with no side', () => expectProblem({ 'a.yaml': 'routes:\n  - name: a\n    path: /a\n' }, /routes\[0\]: a route needs/));
  it('rollout without both sides', () => expectProblem({ 'a.yaml': `${UPSTREAMS}routes:\n  - name: a\n    path: /a\n    legacy: { upstream: flask }\n    mode: rollout\n    rollout: { percentage: 5 }\n` }, /routes\[0\]\.mode: mode `rollout` needs both/));
  it('rollout without percentage', () => expectProblem({ 'a.yaml': `${UPSTREAMS}routes:\n  - name: a\n    path: /a\n    legacy: { upstream: flask }\n    new: { handler: hello }\n    mode: rollout\n` }, /routes\[0\]\.rollout: mode `rollout` needs `rollout\.percentage`/));
  it('mode new without a new side', () => expectProblem({ 'a.yaml': `${UPSTREAMS}routes:\n  - name: a\n    path: /a\n    legacy: { upstream: flask }\n    mode: new\n` }, /routes\[0\]\.mode: mode `new` needs a `new` side/));
  it('pinned without legacy', () => expectProblem({ 'a.yaml': 'routes:\n  - name: a\n    path: /a\n    new: { handler: hello }\n    pinned: true\n' }, /routes\[0\]\.pinned: a route can only be pinned/));
  it('stripPrefix not a segment prefix', () => expectProblem({ 'a.yaml': `${UPSTREAMS}routes:\n  - name: a\n    path: /flask/*\n    legacy: { upstream: flask, stripPrefix: /fla }\n` }, /routes\[0\]\.legacy\.stripPrefix: "\/fla" is not a whole-segment prefix/));
  it('invalid path pattern', () => expectProblem({ 'a.yaml': `${UPSTREAMS}routes:\n  - name: a\n    path: /a/*/b\n    legacy: { upstream: flask }\n` }, /^a\.yaml:5: routes\[0\]\.path: invalid path pattern "\/a\/\*\/b": \* is only allowed as the last segment/));
  it('two routes with the same path and method, across files', () =>
    expectProblem(
      { 'a.yaml': `${UPSTREAMS}routes:\n  - name: a\n    path: /x/:id\n    legacy: { upstream: flask }\n`, 'b.yaml': 'routes:\n  - name: b\n    path: /x/:other\n    methods: [GET]\n    new: { handler: hello }\n' },
      /^b\.yaml:3: routes\[0\]\.path: route `b` \(GET \/x\/:other\) claims the same path and method as route `a` \(\* \/x\/:id\) in a\.yaml/,
    ));
  it('duplicate route names across files', () =>
    expectProblem({ 'a.yaml': `${UPSTREAMS}routes:\n  - name: a\n    path: /a\n    legacy: { upstream: flask }\n`, 'b.yaml': 'routes:\n  - name: a\n    path: /b\n    new: { handler: hello }\n' }, /^b\.yaml:2: routes\[0\]\.name: route name `a` is already used by routes\[0\] in a\.yaml/));
  it('duplicate upstream across files', () => expectProblem({ 'a.yaml': UPSTREAMS, 'b.yaml': UPSTREAMS }, /^b\.yaml:2: upstreams\.flask: upstream `flask` is already defined in a\.yaml/));
  it('settings in two files', () => expectProblem({ 'a.yaml': 'settings: {}\n', 'b.yaml': 'settings: {}\n' }, /^b\.yaml:1: settings: settings may appear in one file only/));
  it('reports every problem at once, not just the first', () => {
    const found = problems({ 'a.yaml': 'upstreams:\n  flask: { url: 1, maxInFlight: 0 }\nroutes:\n  - name: A\n    path: x\n' });
    assert.ok(found.length >= 4, found.join('\n'));
  });

  it('reports schema and cross-reference problems together (the README example: 2 problems)', () => {
    const text = `${UPSTREAMS}routes:\n  - name: a\n    path: /a\n    legacy: { upstream: flsk }\n  - name: b\n    path: /b\n    legacy: { upstream: flask }\n  - name: c\n    path: /c\n    legacy: { upstream: flask }\n    new: { handler: hello }\n    mode: rollout\n    rollout: { percentage: 150 }\n`;
    assert.deepEqual(problems({ 'flags/routes.yaml': text }), [
      'flags/routes.yaml:6: routes[0].legacy.upstream: no upstream named `flsk` (defined: flask)',
      'flags/routes.yaml:15: routes[2].rollout.percentage: must be <= 100',
    ]);
    const result = compileFlags([{ file: 'flags/routes.yaml', text }], { handlerNames });
    assert.ok(!result.ok);
    assert.match(new ConfigError(result.issues).message, /^invalid configuration \(2 problems\):/);
  });
  it('a route the schema rejects still has its upstream, handler and path checked against the rest', () => {
    const found = problems({
      'a.yaml': `${UPSTREAMS}routes:\n  - name: a\n    path: /x/:id\n    legacy: { upstream: flask }\n`,
      'b.yaml': 'routes:\n  - name: b\n    path: /x/:other\n    legacy: { upstream: flsk }\n    new: { handler: helo }\n    mode: canary\n',
    });
    assert.ok(found.some((p) => /^b\.yaml:6: routes\[0\]\.mode: must be one of/.test(p)), found.join('\n'));
    assert.ok(found.some((p) => /^b\.yaml:4: routes\[0\]\.legacy\.upstream: no upstream named `flsk` \(defined: flask\)/.test(p)), found.join('\n'));
    assert.ok(found.some((p) => /^b\.yaml:5: routes\[0\]\.new\.handler: no handler named `helo`/.test(p)), found.join('\n'));
    assert.ok(found.some((p) => /^b\.yaml:3: routes\[0\]\.path: route `b` .* claims the same path and method as route `a`/.test(p)), found.join('\n'));
    assert.equal(found.length, 4, found.join('\n'));
  });
  it('an invalid upstream entry still defines its name; an unreadable upstreams file leaves names unchecked', () => {
    // maxInFlight is wrong, but `flask` exists: the route naming it is not an error too.
    assert.deepEqual(problems({ 'a.yaml': 'upstreams:\n  flask: { url: "http://x", maxInFlight: 0 }\nroutes:\n  - name: a\n    path: /a\n    legacy: { upstream: flask }\n' }), ['a.yaml:2: upstreams.flask.maxInFlight: must be >= 1']);
    // The upstreams file does not parse: which names it defines is unknown, so none is called missing.
    const found = problems({ 'a.yaml': 'upstreams: [\n', 'b.yaml': 'routes:\n  - name: a\n    path: /a\n    legacy: { upstream: flask }\n    new: { handler: helo }\n' });
    assert.ok(found.some((p) => p.startsWith('a.yaml')), found.join('\n'));
    assert.ok(found.some((p) => /b\.yaml:5: routes\[0\]\.new\.handler: no handler named `helo`/.test(p)), found.join('\n'));
    assert.ok(!found.some((p) => /no upstream named/.test(p)), found.join('\n'));
  });

  it('accepts a valid file, fills defaults from one place and freezes the result', () => {
    const result = compileFlags([{ file: 'a.yaml', text: `${UPSTREAMS}routes:\n  - name: a\n    path: /flask/*\n    legacy: { upstream: flask, stripPrefix: /flask/ }\n` }], { handlerNames });
    assert.ok(result.ok);
    const route = result.config.routes[0]!;
    assert.equal(route.mode, 'legacy');
    assert.equal(route.legacy?.stripPrefix, '/flask');
    assert.equal(result.config.upstreams['flask']?.maxInFlight, 16);
    assert.ok(Object.isFrozen(result.config) && Object.isFrozen(route) && Object.isFrozen(route.rollout));
    assert.throws(() => {
      (route as { mode: string }).mode = 'new';
    }, TypeError);
  });

  it('the shipped flags/ validate with the example handlers', () => {
    const files = ['flags/upstreams.yaml', 'flags/routes.yaml'].map((file) => ({ file, text: readFileSync(file, 'utf8') }));
    const result = compileFlags(files, { handlerNames: new Set(Object.keys(handlers)) });
    assert.ok(result.ok, result.ok ? '' : result.issues.map(formatConfigIssue).join('\n'));
  });

  it('flags/schema.json is exactly the schema start-up enforces (regenerate with npm run schema)', () => {
    assert.equal(readFileSync(SCHEMA_FILE, 'utf8'), schemaText());
  });
});

describe('service options from env and CLI', () => {
  it('reads defaults', () => {
    const o = readServiceOptions({});
    assert.deepEqual({ ...o }, { flagsDir: 'flags', port: 8080, host: '0.0.0.0', useLegacy: false, overrideToken: null, adminToken: null, handlersModule: null, watch: true, logLevel: 'info', logFormat: 'text', prometheusMetrics: false, metricsToken: null, viewerToken: null, headersTimeoutMs: 10_000, requestTimeoutMs: 120_000 });
    assert.ok(Object.isFrozen(o));
  });
  it('the client timeouts: whole milliseconds from 100 to an hour, the headers one within the request one', () => {
    const o = readServiceOptions({ SWITCHYARD_HEADERS_TIMEOUT_MS: '2000', SWITCHYARD_REQUEST_TIMEOUT_MS: '5000' });
    assert.deepEqual([o.headersTimeoutMs, o.requestTimeoutMs], [2000, 5000]);
    assert.throws(() => readServiceOptions({ SWITCHYARD_HEADERS_TIMEOUT_MS: '10s' }), (e: unknown) => e instanceof ConfigError && /<env>: SWITCHYARD_HEADERS_TIMEOUT_MS: must be a whole number of milliseconds/.test(e.message));
    assert.throws(() => readServiceOptions({ SWITCHYARD_HEADERS_TIMEOUT_MS: '9000', SWITCHYARD_REQUEST_TIMEOUT_MS: '5000' }), (e: unknown) => e instanceof ConfigError && /SWITCHYARD_HEADERS_TIMEOUT_MS: must not exceed the request timeout \(5000 ms\)/.test(e.message));
  });
  it('USE_LEGACY accepts true/false/1/0 and refuses anything else, naming the variable', () => {
    assert.equal(readServiceOptions({ USE_LEGACY: 'TRUE' }).useLegacy, true);
    assert.equal(readServiceOptions({ USE_LEGACY: '0' }).useLegacy, false);
    assert.throws(() => readServiceOptions({ USE_LEGACY: 'yes please' }), (e: unknown) => e instanceof ConfigError && /<env>: USE_LEGACY: must be true, false, 1 or 0/.test(e.message));
  });
  it('CLI flags override env; unknown flags, missing values, bad ports, short tokens are errors', () => {
    assert.equal(readServiceOptions({ PORT: '9000' }, ['--port', '9001']).port, 9001);
    assert.equal(readServiceOptions({}, ['--flags=/tmp/f']).flagsDir, '/tmp/f');
    const bad = (env: NodeJS.ProcessEnv, argv: string[], re: RegExp): void =>
      assert.throws(() => readServiceOptions(env, argv), (e: unknown) => e instanceof ConfigError && re.test(e.message), String(re));
    bad({}, ['--nope'], /<argv>: --nope: unknown option/);
    bad({}, ['--port'], /<argv>: --port: needs a value/);
    bad({ PORT: '70000' }, [], /<env>: PORT: must be an integer from 0 to 65535/);
    bad({ SWITCHYARD_OVERRIDE_TOKEN: 'short' }, [], /SWITCHYARD_OVERRIDE_TOKEN: must be at least 16 characters/);
    bad({ SWITCHYARD_LOG_LEVEL: 'loud' }, [], /SWITCHYARD_LOG_LEVEL: must be one of/);
    bad({ SWITCHYARD_LOG_FORMAT: 'yaml' }, [], /<env>: SWITCHYARD_LOG_FORMAT: must be one of text, json \(got "yaml"\)/);
    bad({ SWITCHYARD_METRICS: 'statsd' }, [], /<env>: SWITCHYARD_METRICS: must be one of off, prometheus \(got "statsd"\)/);
    bad({ SWITCHYARD_METRICS: 'prometheus', SWITCHYARD_METRICS_TOKEN: 'short' }, [], /SWITCHYARD_METRICS_TOKEN: must be at least 16 characters/);
    bad({ SWITCHYARD_METRICS_TOKEN: 'a-long-enough-metrics-token' }, [], /SWITCHYARD_METRICS_TOKEN: is set but SWITCHYARD_METRICS is not `prometheus`/);
  });
  it('reads the log format and the metrics switch', () => {
    const o = readServiceOptions({ SWITCHYARD_LOG_FORMAT: 'JSON', SWITCHYARD_METRICS: 'prometheus', SWITCHYARD_METRICS_TOKEN: 'a-long-enough-metrics-token' });
    assert.equal(o.logFormat, 'json');
    assert.equal(o.prometheusMetrics, true);
    assert.equal(o.metricsToken, 'a-long-enough-metrics-token');
  });
});
