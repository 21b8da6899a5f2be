import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ROUTE_SHADOW_DEFAULTS } from '../../src/config/defaults.js';
import { CircuitBreaker } from '../../src/shadow/circuit-breaker.js';
import { classifyField, DIFFY_THRESHOLDS } from '../../src/shadow/noise-filter.js';
import { compareResponses, type ComparableResponse, type ShadowRules } from '../../src/shadow/response-diff.js';

const json = (value: unknown, status = 200, type = 'application/json'): ComparableResponse => ({ status, headers: { 'content-type': type }, body: Buffer.from(JSON.stringify(value)) });
const rules = (over: Partial<ShadowRules> = {}): ShadowRules => ({ ...ROUTE_SHADOW_DEFAULTS, ...over });
const paths = (a: ComparableResponse, b: ComparableResponse, r = rules()) => compareResponses(a, b, r).differences.map((d) => `${d.kind} ${d.path}`);

describe('response comparison', () => {
  it('reports a changed field by JSON Pointer, and its generalised field', () => {
    const c = compareResponses(json({ items: [{ id: 1, total: 2 }] }), json({ items: [{ id: 1, total: 3 }] }), rules());
    assert.equal(c.matched, false);
    assert.equal(c.bodyKind, 'json');
    assert.deepEqual(c.differences.map((d) => [d.path, d.field, d.kind, d.primary, d.candidate]), [['/items/0/total', '/items/*/total', 'changed', 2, 3]]);
  });

  it('added and removed fields; escaped pointer segments', () => {
    assert.deepEqual(paths(json({ a: 1, 'x/y': 1 }), json({ b: 1, 'x/y': 2 })).sort(), ['added /b', 'changed /x~1y', 'removed /a']);
  });

  it('a reordered array differs in order, and matches when declared unordered', () => {
    const a = json({ tags: ['a', 'b', { k: 1, j: 2 }] });
    const b = json({ tags: [{ j: 2, k: 1 }, 'b', 'a'] });
    assert.notDeepEqual(paths(a, b), []);
    assert.deepEqual(paths(a, b, rules({ unordered: ['/tags'] })), []);
    // Unordered is a multiset: a duplicate still counts.
    assert.notDeepEqual(paths(json({ tags: ['a', 'a'] }), json({ tags: ['a', 'b'] }), rules({ unordered: ['/tags'] })), []);
  });

  it('ignores fields by pointer with wildcards', () => {
    const a = json({ items: [{ id: 1, updated_at: 1 }, { id: 2, updated_at: 2 }], at: 1 });
    const b = json({ items: [{ id: 1, updated_at: 9 }, { id: 2, updated_at: 8 }], at: 1 });
    assert.deepEqual(paths(a, b, rules({ ignore: ['/items/*/updated_at'] })), []);
    assert.deepEqual(paths(a, b, rules({ ignore: ['/items/0/updated_at'] })), ['changed /items/1/updated_at']);
  });

  it('numeric tolerance per path', () => {
    assert.deepEqual(paths(json({ price: 10 }), json({ price: 10.004 }), rules({ tolerance: { '/price': 0.01 } })), []);
    assert.deepEqual(paths(json({ price: 10 }), json({ price: 10.5 }), rules({ tolerance: { '/price': 0.01 } })), ['changed /price']);
  });

  it('status and configured headers; content-type compared without cosmetic differences', () => {
    assert.deepEqual(paths(json({}, 200), json({}, 404)), ['changed @status']);
    assert.deepEqual(paths(json({}, 200, 'application/json; charset=utf-8'), json({}, 200, 'application/json;charset=UTF-8')), []);
    assert.deepEqual(paths(json({}, 200, 'application/json; charset=utf-8'), json({}, 200, 'application/json')), []);
    assert.deepEqual(paths(json({}, 200, 'text/html; charset=utf-8'), json({}, 200, 'text/html')), ['changed @header/content-type']);
    assert.deepEqual(paths(json({}, 200, 'application/json'), json({}, 200, 'text/html')), ['changed @header/content-type']);
  });

  it('non-JSON bodies: bytes exactly, text normalised on request, big bodies by hash', () => {
    const text = (body: string): ComparableResponse => ({ status: 200, headers: { 'content-type': 'text/plain' }, body: Buffer.from(body) });
    assert.deepEqual(paths(text('a\r\nb  \n'), text('a\nb\n')), ['changed @body']);
    assert.deepEqual(paths(text('a\r\nb  \n'), text('a\nb\n'), rules({ normalizeText: true })), []);
    const bin = (b: number[]): ComparableResponse => ({ status: 200, headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from(b) });
    assert.deepEqual(paths(bin([0, 1, 2]), bin([0, 1, 2])), []);
    assert.deepEqual(paths(bin([0, 1, 2]), bin([0, 1, 3])), ['changed @body']);
    const hashed = (h: string): ComparableResponse => ({ status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from('{"x":'), bodyHash: h });
    assert.deepEqual(paths(hashed('aa'), hashed('aa')), []);
    assert.deepEqual(paths(hashed('aa'), hashed('bb')), ['changed @body']);
  });
});

describe('noise classification (Diffy thresholds)', () => {
  it('a field that differs between the sides but never between two calls of one side is real', () => {
    assert.equal(classifyField({ raw: 100, noise: 0 }, 100, 10), 'difference');
  });
  it('a field that differs as often between two calls of the same side is noise', () => {
    assert.equal(classifyField({ raw: 100, noise: 10 }, 100, 10), 'noise');
    assert.equal(classifyField({ raw: 90, noise: 10 }, 100, 10), 'noise');
  });
  it('raw must exceed noise by more than 20% relative and 0.03% absolute', () => {
    // rates 0.5 vs 0.4: relative 0.111 → noise
    assert.equal(classifyField({ raw: 50, noise: 4 }, 100, 10), 'noise');
    // rates 0.5 vs 0.1: relative 0.667 → difference
    assert.equal(classifyField({ raw: 50, noise: 1 }, 100, 10), 'difference');
    // 1 in 100,000 raw with no noise: absolute 0.00001 < 0.0003 → noise
    assert.equal(classifyField({ raw: 1, noise: 0 }, 100_000, 10_000), 'noise');
    assert.equal(classifyField({ raw: 1, noise: 0 }, 100_000, 10_000, { ...DIFFY_THRESHOLDS, absolute: 0 }), 'difference');
  });
});

describe('circuit breaker', () => {
  it('opens after N consecutive failures, half-opens after the cooldown for one trial', () => {
    let now = 0;
    const b = new CircuitBreaker(2, 1000, () => now);
    b.failure();
    assert.equal(b.allow(), true);
    b.failure();
    assert.equal(b.state, 'open');
    assert.equal(b.allow(), false);
    now = 1000;
    assert.equal(b.allow(), true, 'one trial');
    assert.equal(b.allow(), false, 'only one');
    b.success();
    assert.equal(b.state, 'closed');
    assert.equal(b.allow(), true);
  });
});
