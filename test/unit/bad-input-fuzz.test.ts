import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cacheTarget } from '../../src/cache/cache-key.js';
import { compileFlags } from '../../src/config/validate-flags.js';
import { formatConfigIssue } from '../../src/errors/switchyard-error.js';
import { normalizeRequestPath, splitUrl } from '../../src/routing/request-path.js';
import { decideRoute } from '../../src/routing/routing-decision.js';
import { cookieValue, stickinessValue } from '../../src/routing/stickiness.js';
import { readTesterOverride } from '../../src/routing/tester-override.js';
import { compareResponses, type ShadowRules } from '../../src/shadow/response-diff.js';

/**
 * Seeded random input through the pure functions that see client- or operator-written bytes first:
 * none may throw, and each result keeps its invariants. The seed is fixed so a failure replays
 * exactly; FUZZ_SEED=<n> explores other inputs.
 */
const SEED = Number(process.env['FUZZ_SEED'] ?? 20261124);

/** mulberry32: small, fast, good enough to spread inputs. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = prng(SEED);
const int = (n: number): number => Math.floor(random() * n);
const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;

/** Path-ish strings: the characters and escapes that matter to routing, plus arbitrary code units. */
const PATH_PARTS = ['/', '/', '/', 'a', 'flask', 'hello', '.', '..', '%2e', '%2E%2e', '%2F', '%5c', '%00', '%41', '%25', '%', '%G1', '\\', '#', '?', '&', '=', ';', ':', '@', '~', '_', '-', ' ', 'é', '\u0000', '\uffff', '\ud800', '*'];
function randomPath(): string {
  let s = random() < 0.9 ? '/' : '';
  const n = int(12);
  for (let i = 0; i < n; i++) s += random() < 0.85 ? pick(PATH_PARTS) : String.fromCharCode(int(0x10000));
  return s;
}

describe(`bad input never throws and keeps invariants (seed ${SEED})`, () => {
  it('request paths: 20,000 random targets are either a clean path or a reason', () => {
    for (let i = 0; i < 20_000; i++) {
      const url = randomPath();
      const { path, query } = splitUrl(url);
      assert.equal(path + query, url);
      const result = normalizeRequestPath(path);
      if (!result.ok) {
        assert.ok(result.reason.length > 0, url);
        continue;
      }
      const p = result.path;
      assert.ok(p.startsWith('/'), `${JSON.stringify(url)} → ${JSON.stringify(p)}`);
      assert.ok(!p.includes('\\') && !p.includes('#'), JSON.stringify(url));
      assert.ok(!/%(2f|5c|00)/i.test(p), `structural escape survived: ${JSON.stringify(url)}`);
      const segments = p.split('/').slice(1);
      assert.ok(!segments.some((s) => s === '.' || s === '..'), `dot segment survived: ${JSON.stringify(url)}`);
      assert.ok(!segments.slice(0, -1).includes(''), `empty segment survived: ${JSON.stringify(url)}`);
      // Idempotent: what we forward would be accepted unchanged.
      assert.deepEqual(normalizeRequestPath(p), result, JSON.stringify(url));
    }
  });

  it('cache keys: query order never matters, and 5,000 random queries never throw', () => {
    for (let i = 0; i < 5_000; i++) {
      const pairs = Array.from({ length: 1 + int(5) }, () => `${pick(['a', 'b', 'c', 'a[]', '', '%20'])}=${int(3)}`);
      const distinct = [...new Map(pairs.map((p) => [p.split('=')[0], p])).values()];
      const shuffled = [...distinct].sort(() => random() - 0.5);
      assert.equal(cacheTarget('/x', `?${shuffled.join('&')}`), cacheTarget('/x', `?${distinct.join('&')}`));
      cacheTarget(randomPath(), `?${randomPath()}`);
    }
  });

  it('tester override headers: 5,000 random header sets give applied, ignored or malformed — never a throw', () => {
    const token = Buffer.from('tester-override-token-0123456789');
    const values = ['new', 'legacy', 'NEW', ' new ', '', 'both', 'new,legacy', 'tester-override-token-0123456789', 'x'.repeat(10_000), '\u0000'];
    for (let i = 0; i < 5_000; i++) {
      const headers: Record<string, string | string[]> = {};
      if (random() < 0.8) headers['x-switchyard-force'] = random() < 0.2 ? [pick(values), pick(values)] : pick(values);
      if (random() < 0.8) headers['x-switchyard-override-token'] = random() < 0.2 ? [pick(values), pick(values)] : pick(values);
      const result = readTesterOverride(headers, random() < 0.9 ? token : null);
      assert.ok(['applied', 'ignored', 'malformed', 'none'].includes(result.kind), JSON.stringify(headers));
      if (result.kind === 'applied') assert.equal(headers['x-switchyard-override-token'], token.toString());
    }
  });

  it('stickiness: 5,000 random cookie and header values give a string, and the fallback only when none is usable', () => {
    const parts = ['uid', '=', ';', ' ', '"', '%', '%E0%A4%A', '%41', 'é', '\u0000', 'x', ',', 'uid=', '=uid'];
    for (let i = 0; i < 5_000; i++) {
      const cookie = Array.from({ length: int(10) }, () => pick(parts)).join('');
      const header = random() < 0.3 ? [pick(parts), pick(parts)] : random() < 0.5 ? pick(parts) : undefined;
      const value = stickinessValue({ cookie, 'x-user-id': header }, [{ header: 'X-User-Id' }, { cookie: 'uid' }], () => 'FALLBACK');
      assert.equal(typeof value, 'string', cookie);
      if (value === 'FALLBACK') assert.equal(cookieValue(cookie, 'uid') ?? '', '', cookie);
    }
  });

  it('flags files: 1,500 random mutations of a valid file are rejected with file, field and reason — or compile frozen', () => {
    const valid = `upstreams:
  flask: { url: "http://127.0.0.1:8001", maxInFlight: 4, connectTimeoutMs: 500 }
routes:
  - name: app
    path: /flask/*
    legacy: { upstream: flask, stripPrefix: /flask }
    cache: { defaultTtlSeconds: 30 }
  - name: users
    path: /flask/users/:id
    methods: [GET, HEAD]
    legacy: { upstream: flask, stripPrefix: /flask }
    new: { handler: hello }
    mode: rollout
    rollout: { percentage: 25, stickiness: [{ header: X-User-Id }] }
    shadow: { percentage: 10, ignore: [/items/*/at], tolerance: { /price: 0.01 } }
`;
    assert.equal(compileFlags([{ file: 'fuzz.yaml', text: valid }], { handlerNames: new Set(['hello']) }).ok, true, 'the seed file is valid');
    const tokens = ['-1', '0', '101', '1e309', 'null', '~', '[]', '{}', '"x"', 'true', '&a x', '*a', '!!binary x', '"/*"', '":id"', '/../x', 'http://', '"\\u0000"', "'", '"', ':', '- ', '\t', '\n  ', '{ a: 1 }', 'legacy', 'rollout', 'new'];
    let rejected = 0;
    for (let i = 0; i < 1_500; i++) {
      let text = valid;
      for (let m = 1 + int(3); m > 0; m--) {
        const at = int(text.length);
        const kind = int(3);
        if (kind === 0) text = text.slice(0, at) + text.slice(at + 1 + int(8));
        else if (kind === 1) text = text.slice(0, at) + pick(tokens) + text.slice(at);
        else {
          const lines = text.split('\n');
          const line = int(lines.length);
          lines.splice(line, 0, lines[line] ?? '');
          text = lines.join('\n');
        }
      }
      const result = compileFlags([{ file: 'fuzz.yaml', text }], { handlerNames: new Set(['hello']) });
      if (result.ok) {
        assert.ok(Object.isFrozen(result.config) && Object.isFrozen(result.config.routes), text);
        for (const route of result.config.routes) assert.ok(route.path.startsWith('/'), text);
        continue;
      }
      rejected++;
      assert.ok(result.issues.length > 0, text);
      for (const issue of result.issues) {
        assert.equal(issue.file, 'fuzz.yaml');
        assert.ok(issue.field.length > 0 && issue.reason.length > 0, `${formatConfigIssue(issue)}\n--- in ---\n${text}`);
      }
    }
    assert.ok(rejected > 100, `only ${rejected} of 1,500 mutations were rejected: the mutator is too gentle to test anything`);
  });

  it('a YAML alias bomb is refused, not expanded', () => {
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    const result = compileFlags([{ file: 'bomb.yaml', text: `${levels.join('\n')}\nroutes: *i\n` }], { handlerNames: new Set() });
    assert.equal(result.ok, false);
    if (!result.ok) assert.match(result.issues.map(formatConfigIssue).join('\n'), /^bomb\.yaml: \(yaml\): .*alias/im);
  });

  it('routing decisions: 5,000 random routes and inputs always pick an existing side with a reason', () => {
    const compiled = compileFlags(
      [
        {
          file: 'f.yaml',
          text: `upstreams:\n  flask: { url: "http://127.0.0.1:8001" }\nroutes:\n  - { name: l, path: /l, legacy: { upstream: flask } }\n  - { name: n, path: /n, new: { handler: h } }\n  - { name: r, path: /r, legacy: { upstream: flask }, new: { handler: h }, mode: rollout, rollout: { percentage: 37 } }\n  - { name: p, path: /p, legacy: { upstream: flask }, new: { handler: h }, mode: new, pinned: true }\n`,
        },
      ],
      { handlerNames: new Set(['h']) },
    );
    assert.ok(compiled.ok);
    const answers = [null, { side: 'new' as const }, { side: 'legacy' as const }];
    for (let i = 0; i < 5_000; i++) {
      const route = pick(compiled.config.routes);
      const decision = decideRoute({
        route,
        killSwitch: random() < 0.1,
        override: pick([null, null, 'new', 'legacy'] as const),
        stickinessValue: () => (random() < 0.05 ? '' : randomPath()),
        runtime: random() < 0.2 ? { mode: pick(['legacy', 'new', 'rollout'] as const), percentage: int(101) } : null,
        flag: random() < 0.3 ? () => (random() < 0.2 ? (() => { throw new Error('provider down'); })() : pick(answers)) : null,
      });
      assert.ok(decision.side === 'legacy' ? route.legacy !== null : route.new !== null, `${route.name} → ${decision.side} (${decision.reason})`);
      assert.ok(decision.reason.length > 0);
    }
  });

  it('response diff: 3,000 random JSON pairs compare without throwing; a body always matches itself', () => {
    const rules: ShadowRules = { compareHeaders: ['content-type'], ignore: ['/items/*/at'], unordered: ['/tags'], tolerance: { '/price': 0.01 }, normalizeText: false };
    const value = (depth: number): unknown => {
      const kind = int(depth > 3 ? 4 : 7);
      if (kind === 0) return int(1000) / pick([1, 3, 7]);
      if (kind === 1) return pick(['', 'x', 'é', '\u0000', 'a/b', '~1']);
      if (kind === 2) return pick([true, false, null]);
      if (kind === 3) return int(5);
      if (kind === 4) return Array.from({ length: int(4) }, () => value(depth + 1));
      return Object.fromEntries(Array.from({ length: int(4) }, () => [pick(['items', 'tags', 'price', 'at', 'a/b', '~', '']), value(depth + 1)]));
    };
    const response = (body: string, type = 'application/json') => ({ status: 200, headers: { 'content-type': type }, body: Buffer.from(body) });
    for (let i = 0; i < 3_000; i++) {
      const a = JSON.stringify(value(0));
      const b = random() < 0.3 ? a : random() < 0.5 ? JSON.stringify(value(0)) : a.slice(0, int(a.length + 1));
      const comparison = compareResponses(response(a), response(b), rules);
      assert.ok(['json', 'text', 'bytes'].includes(comparison.bodyKind));
      if (a === b) assert.equal(comparison.matched, true, a);
      assert.equal(compareResponses(response(a), response(a), rules).matched, true, a);
    }
  });
});
