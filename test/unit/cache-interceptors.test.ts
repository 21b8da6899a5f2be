import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compose, type CacheInterceptor, type CacheRequest } from '../../src/cache/cache-request.js';

/** The cache's layers compose like undici's interceptors: the first listed sees the request first. */
describe('cache interceptors', () => {
  const request = { route: 'r' } as unknown as CacheRequest;

  it('run in order around the dispatch, and each may answer instead of passing on', () => {
    const seen: string[] = [];
    const tag = (name: string): CacheInterceptor => (next) => (c) => {
      seen.push(name);
      next(c);
    };
    const answer: CacheInterceptor = () => () => seen.push('answered');
    compose(() => seen.push('dispatch'), [tag('invalidation'), tag('bypass')])(request);
    assert.deepEqual(seen, ['invalidation', 'bypass', 'dispatch']);
    seen.length = 0;
    compose(() => seen.push('dispatch'), [tag('invalidation'), answer, tag('never')])(request);
    assert.deepEqual(seen, ['invalidation', 'answered']);
  });

  it('with none, the dispatch itself', () => {
    let got: CacheRequest | undefined;
    compose((c) => (got = c), [])(request);
    assert.equal(got, request);
  });
});
