import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyValues, looksLikeTimestamp, proposeIgnoreRules, sampleValues } from '../../src/shadow/ignore-proposals.js';
import { DIFFY_THRESHOLDS } from '../../src/shadow/noise-filter.js';
import { emptySkips, type RouteShadowCounts, type ShadowSample } from '../../src/shadow/shadow-store.js';

const counts = (fields: RouteShadowCounts['fields'], compared = 100, noiseSamples = 50): RouteShadowCounts => ({
  route: 'r',
  compared,
  matched: 0,
  mismatched: compared,
  noiseSamples,
  skipped: emptySkips(),
  fields,
});
const sample = (legacy: unknown, fresh: unknown): ShadowSample => ({
  at: '2026-12-02T14:00:00.000Z',
  route: 'r',
  flagVersion: 'v',
  request: { method: 'GET', path: '/x', headers: {} },
  primary: { side: 'legacy', status: 200, headers: {}, body: JSON.stringify(legacy) },
  candidate: { side: 'new', status: 200, headers: {}, body: JSON.stringify(fresh) },
  differences: [],
});
const propose = (c: RouteShadowCounts, samples: ShadowSample[] = [], extra: { ignored?: string[]; rejected?: string[] } = {}) =>
  proposeIgnoreRules({ counts: c, samples, thresholds: DIFFY_THRESHOLDS, ignored: extra.ignored ?? [], rejected: extra.rejected ?? [] });

describe('proposed ignore rules (pure)', () => {
  it('proposes a field that differs as often between legacy and new as between two calls of one side (p = 0.5 at equal rates)', () => {
    const [p, ...rest] = propose(counts({ '/generated_at': { raw: 100, noise: 50 }, '/price': { raw: 100, noise: 0 } }));
    assert.deepEqual(rest, []);
    assert.equal(p?.field, '/generated_at');
    assert.deepEqual(p?.reasons, ['noise_rate']);
    assert.equal(p?.evidence.rawRate, 1);
    assert.equal(p?.evidence.noiseRate, 1);
    assert.equal(p?.evidence.pValue, 0.5);
  });

  it('equal partial rates (12/100 vs 6/50) are noise too; a clear excess (40/100 vs 10/50) is not, p ≈ 0.00716', () => {
    const out = propose(counts({ '/a': { raw: 12, noise: 6 }, '/b': { raw: 40, noise: 10 } }));
    assert.deepEqual(out.map((p) => p.field), ['/a']);
    assert.ok(Math.abs(out[0]!.evidence.pValue! - 0.5) < 1e-12);
    // Proposed for its values alone, /b shows its test: pooled p = 50/150, se = sqrt(p(1-p)(1/100 + 1/50))
    // = 0.081650, z = 0.2/se = 2.449490, one-sided p = 0.0071529.
    const [b] = propose(counts({ '/b': { raw: 40, noise: 10 } }), [sample({ b: '2026-12-02T14:00:01Z' }, { b: '2026-12-02T14:00:02Z' }), sample({ b: '2026-12-02T14:00:03Z' }, {})]);
    assert.deepEqual(b?.reasons, ['timestamp']);
    assert.ok(Math.abs(b.evidence.pValue! - 0.0071529) < 1e-6, String(b?.evidence.pValue));
  });

  it('needs evidence of noise: at least 5 noise samples and one noisy difference', () => {
    assert.deepEqual(propose(counts({ '/a': { raw: 3, noise: 3 } }, 100, 4)), []);
    assert.deepEqual(propose(counts({ '/a': { raw: 1, noise: 0 } }, 10_000, 50)), []);
  });

  it('proposes fields whose sample values look like timestamps, UUIDs or request ids, with the values as evidence', () => {
    const samples = [
      sample({ at: '2026-12-02T14:00:01Z', id: '6f1c2a4e-8b1d-4f3a-9c2e-1a2b3c4d5e6f', uid: '6f1c2a4e-8b1d-4f3a-9c2e-1a2b3c4d5e6f', request_id: 'req7f3a9b2c1d4e' }, { at: '2026-12-02T14:00:02.5Z', id: 'a3d9e2f1-7c4b-4e8a-b1d2-9f8e7d6c5b4a', uid: 'a3d9e2f1-7c4b-4e8a-b1d2-9f8e7d6c5b4a', request_id: 'req0a1b2c3d4e5f' }),
      sample({ at: 'Wed, 02 Dec 2026 14:00:03 GMT', id: '0e9d8c7b-6a5f-4e3d-8c2b-1a0f9e8d7c6b', uid: '0e9d8c7b-6a5f-4e3d-8c2b-1a0f9e8d7c6b', request_id: 'req99887766aabb' }, { at: 1796220566.45, id: 'x', uid: '1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e', request_id: 'req11223344ccdd' }),
    ];
    // No noise samples at all: only the values speak.
    const out = propose(counts({ '/at': { raw: 2, noise: 0 }, '/id': { raw: 2, noise: 0 }, '/uid': { raw: 2, noise: 0 }, '/request_id': { raw: 2, noise: 0 } }, 2, 0), samples);
    const by = Object.fromEntries(out.map((p) => [p.field, p]));
    assert.deepEqual(by['/at']?.reasons, ['timestamp']);
    assert.deepEqual(by['/at']?.evidence.values.legacy, ['2026-12-02T14:00:01Z', 'Wed, 02 Dec 2026 14:00:03 GMT']);
    assert.deepEqual(by['/at']?.evidence.values.new, ['2026-12-02T14:00:02.5Z', '1796220566.45']);
    assert.deepEqual(by['/uid']?.reasons, ['uuid']);
    assert.deepEqual(by['/uid']?.evidence.looksLike, { timestamp: 0, uuid: 4, requestId: 0, of: 4 });
    assert.deepEqual(by['/request_id']?.reasons, ['request_id']);
    assert.equal(by['/id'], undefined, 'three UUIDs of four values (75%) are not enough');
  });

  it('never proposes status, headers, whole bodies, fields already ignored, or rejected ones', () => {
    const c = counts({ '@status': { raw: 50, noise: 25 }, '@header/content-type': { raw: 50, noise: 25 }, '@body': { raw: 50, noise: 25 }, '': { raw: 50, noise: 25 }, '/ignored': { raw: 50, noise: 25 }, '/rejected': { raw: 50, noise: 25 }, '/kept': { raw: 50, noise: 25 } });
    assert.deepEqual(propose(c, [], { ignored: ['/ignored'], rejected: ['/rejected'] }).map((p) => p.field), ['/kept']);
  });

  it('reads values under * patterns in both sides of every sample, skipping bodies that are not JSON', () => {
    const s = [sample({ items: [{ t: 1 }, { t: 2 }] }, { items: [{ t: 3 }] }), { ...sample({}, {}), primary: { side: 'legacy' as const, status: 200, headers: {}, body: '{"items": [' } }];
    assert.deepEqual(sampleValues(s, '/items/*/t'), { legacy: ['1', '2'], new: ['3'] });
  });

  it('recognises timestamps by value', () => {
    for (const yes of ['2026-12-02T14:00:00Z', '2026-12-02 14:00', '2026-12-02T14:00:00.123+01:00', 'Wed, 02 Dec 2026 14:00:00 GMT', '1796220566', '1796220566.4537506', '1796220566453']) assert.equal(looksLikeTimestamp(yes), true, yes);
    for (const no of ['42', '10.0', '2026-12-02', 'today', '99999999999999', '-1796220566']) assert.equal(looksLikeTimestamp(no), false, no);
  });

  it('counts request ids by the field name and an id-like value', () => {
    assert.deepEqual(classifyValues('/meta/request_id', ['abc123def456ghi', 'short1', '6f1c2a4e-8b1d-4f3a-9c2e-1a2b3c4d5e6f']), { timestamp: 0, uuid: 1, requestId: 2, of: 3 });
    assert.deepEqual(classifyValues('/name', ['abc123def456ghi']), { timestamp: 0, uuid: 0, requestId: 0, of: 1 });
  });
});
