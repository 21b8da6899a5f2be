import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { frozenHeaders } from '../../src/pipeline/frozen-headers.js';

describe('frozenHeaders (pure)', () => {
  it('is a frozen copy with every header, later changes to the original not showing through', () => {
    const headers: Record<string, string | string[] | undefined> = { host: 'example.test', 'set-cookie': ['a=1', 'b=2'], accept: '*/*' };
    const copy = frozenHeaders(headers);
    assert.deepEqual(copy, headers);
    assert.ok(Object.isFrozen(copy));
    assert.notEqual(copy, headers);
    headers['accept'] = 'text/html';
    delete headers['host'];
    assert.equal(copy.accept, '*/*');
    assert.equal(copy.host, 'example.test');
    assert.throws(() => {
      (copy as Record<string, string>)['x'] = '1';
    }, TypeError);
  });
});
