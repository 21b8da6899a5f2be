import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findTokenLeaks, secretToken } from '../../bench/chaos/token-scan.js';

describe('token scan of captured output', () => {
  const admin = secretToken(Buffer.from('q8Zp3Lr0vT6mN1sK9yW2xB5c'));

  it('draws tokens from the letters ordinary output does not string together', () => {
    assert.equal(admin.length, 24);
    assert.match(admin, /^[jkqvwxzJKQVWXZ]+$/);
    assert.notEqual(secretToken(Buffer.from('another seed of 24 bytes')), admin);
  });

  it('finds a whole token, and any eight of its characters in a row (a truncated or partial leak)', () => {
    const log = `{"msg":"ok"}\n{"msg":"bad token","hint":"${admin.slice(5, 13)}…"}\n{"msg":"later"}`;
    const leaks = findTokenLeaks(log, { admin });
    assert.equal(leaks.length, 1);
    assert.equal(leaks[0]?.secret, 'admin');
    assert.equal(leaks[0]?.fragment, admin.slice(5, 13));
    assert.match(leaks[0]?.context ?? '', /bad token/);
    assert.equal(findTokenLeaks(`Authorization: Bearer ${admin}`, { admin }).length, 1);
  });

  it('seven characters in a row, or the token’s letters scattered, are not a leak', () => {
    assert.deepEqual(findTokenLeaks(`#${admin.slice(0, 7)}# ${admin.slice(9, 16)}`, { admin }), []);
    assert.deepEqual(findTokenLeaks('{"status":401,"code":"SWITCHYARD_UNAUTHORIZED","requestId":"4f0c2a9e"}', { admin }), []);
  });

  it('names every secret found, one finding each', () => {
    const viewer = secretToken(Buffer.from('zyxwvutsrqponmlkjihgfedc'));
    const leaks = findTokenLeaks(`${admin} ${admin} ${viewer}`, { admin, viewer });
    assert.deepEqual(leaks.map((l) => l.secret), ['admin', 'viewer']);
  });
});
