import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CACHE_HEADER, entryHeaderLines } from '../../src/cache/cache-responses.js';
import { MemoryStore } from '../../src/cache/memory-store.js';

describe('cache hit header lines (pure)', () => {
  it('keeps the origin headers in order, drops Age and the cache verdict, and sets Content-Length from the body', () => {
    const headers = { 'content-type': 'application/json', age: '12', 'content-length': '999', link: ['</a>; rel=preload', '</b>; rel=preload'], [CACHE_HEADER]: 'HIT', etag: '"v1"' };
    assert.deepEqual(entryHeaderLines(200, headers, 17), ['content-type', 'application/json', 'link', ['</a>; rel=preload', '</b>; rel=preload'], 'etag', '"v1"', 'content-length', '17']);
  });

  it('sends no Content-Length of its own for a status without a body (the origin\'s stays)', () => {
    assert.deepEqual(entryHeaderLines(204, { 'content-length': '0', age: '3' }, 0), ['content-length', '0']);
    assert.deepEqual(entryHeaderLines(204, { etag: '"x"' }, 0), ['etag', '"x"']);
  });
});

describe('memory store peek', () => {
  it('reads like get without a promise: the same Buffer, null when absent or expired, and counts as a use for the LRU', async () => {
    let now = 1_000;
    const store = new MemoryStore(1_000, () => now);
    const a = Buffer.alloc(300, 'a');
    await store.set('a', a, 500);
    await store.set('b', Buffer.alloc(300, 'b'), 10_000);
    assert.equal(store.peek('a'), a);
    assert.equal(await store.get('a'), a);
    assert.equal(store.peek('missing'), null);
    // 'a' was used after 'b': adding a third entry evicts 'b', the least recently used.
    await store.set('c', Buffer.alloc(300, 'c'), 10_000);
    assert.equal(store.peek('b'), null);
    assert.equal(store.peek('a'), a);
    now += 500;
    assert.equal(store.peek('a'), null);
    assert.equal(store.size, 1);
  });

  it('keeps exact LRU order when the most recently used key is read again (no move) and after it is deleted', async () => {
    const store = new MemoryStore(1_000);
    await store.set('a', Buffer.alloc(300), 10_000);
    await store.set('b', Buffer.alloc(300), 10_000);
    store.peek('b');
    store.peek('b');
    await store.set('c', Buffer.alloc(300), 10_000);
    assert.equal(store.peek('a'), null, 'a was the least recently used');
    assert.notEqual(store.peek('b'), null);
    // b is now the newest; deleting it must not leave a stale "newest" behind.
    await store.delete('b');
    store.peek('c');
    await store.set('d', Buffer.alloc(300), 10_000);
    await store.set('e', Buffer.alloc(300), 10_000);
    assert.equal(store.peek('c'), null, 'c was the least recently used');
    assert.notEqual(store.peek('d'), null);
    assert.notEqual(store.peek('e'), null);
  });
});
