import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clientKeyOf } from '../../src/admin/auth-attempts.js';
import { AuthFailureLimiter } from '../../src/admin/auth-failure-limiter.js';

const limits = { maxFailures: 3, windowMs: 1_000, blockMs: 5_000, maxClients: 4 };
function make(): { limiter: AuthFailureLimiter; clock: { t: number } } {
  const clock = { t: 0 };
  return { limiter: new AuthFailureLimiter(limits, () => clock.t), clock };
}

describe('auth failure limiter', () => {
  it('blocks a key after maxFailures wrong credentials within the window, for blockMs', () => {
    const { limiter, clock } = make();
    assert.equal(limiter.recordFailure('a'), 0);
    assert.equal(limiter.recordFailure('a'), 0);
    assert.equal(limiter.retryAfterMs('a'), 0);
    assert.equal(limiter.recordFailure('a'), 5_000);
    clock.t = 4_000;
    assert.equal(limiter.retryAfterMs('a'), 1_000);
    assert.equal(limiter.retryAfterMs('b'), 0, 'other keys are unaffected');
    clock.t = 5_000;
    assert.equal(limiter.retryAfterMs('a'), 0, 'the block ends');
  });

  it('failures spread wider than the window never block', () => {
    const { limiter, clock } = make();
    for (let i = 0; i < 10; i++) {
      assert.equal(limiter.recordFailure('a'), 0);
      clock.t += 600; // two per window at most
      if (i % 2 === 1) clock.t += 400;
    }
  });

  it('failures while blocked do not extend the block; a success restarts the count', () => {
    const { limiter, clock } = make();
    for (let i = 0; i < 3; i++) limiter.recordFailure('a');
    clock.t = 1_000;
    assert.equal(limiter.recordFailure('a'), 4_000);
    clock.t = 5_000;
    assert.equal(limiter.retryAfterMs('a'), 0);
    limiter.recordFailure('a');
    limiter.recordFailure('a');
    limiter.recordSuccess('a');
    assert.equal(limiter.recordFailure('a'), 0, 'the two failures before the success are forgotten');
  });

  it('memory is bounded: past maxClients the key whose last failure is oldest is forgotten', () => {
    const { limiter, clock } = make();
    for (let i = 0; i < 3; i++) limiter.recordFailure('blocked');
    for (const key of ['k1', 'k2', 'k3']) {
      clock.t += 1;
      limiter.recordFailure(key);
    }
    assert.equal(limiter.size, 4);
    assert.ok(limiter.retryAfterMs('blocked') > 0);
    for (let i = 0; i < 1_000; i++) limiter.recordFailure(`flood-${i}`);
    assert.equal(limiter.size, 4);
    assert.equal(limiter.retryAfterMs('blocked'), 0, 'flooding from many addresses can only forget, never grow');
  });

  it('keys with nothing left to remember are dropped when read', () => {
    const { limiter, clock } = make();
    limiter.recordFailure('a');
    clock.t = 1_000;
    assert.equal(limiter.retryAfterMs('a'), 0);
    assert.equal(limiter.size, 0);
  });
});

describe('client key', () => {
  it('IPv4 by address, IPv4-mapped IPv6 as IPv4, IPv6 by its /64', () => {
    assert.equal(clientKeyOf({}, '10.1.2.3', false), '10.1.2.3');
    assert.equal(clientKeyOf({}, '::ffff:10.1.2.3', false), '10.1.2.3');
    assert.equal(clientKeyOf({}, '2001:db8:0:1:aaaa::1', false), '2001:db8:0:1::/64');
    assert.equal(clientKeyOf({}, '2001:0db8:0000:0001:ffff:1:2:3', false), '2001:db8:0:1::/64');
    assert.equal(clientKeyOf({}, '2001:db8::1', false), '2001:db8:0:0::/64');
    assert.equal(clientKeyOf({}, '::1', false), '0:0:0:0::/64');
    assert.equal(clientKeyOf({}, 'fe80::1%eth0', false), 'fe80:0:0:0::/64');
  });

  it('X-Forwarded-For only when trusted, and then its last hop (the one your proxy wrote)', () => {
    const headers = { 'x-forwarded-for': '6.6.6.6, 203.0.113.9' };
    assert.equal(clientKeyOf(headers, '127.0.0.1', false), '127.0.0.1');
    assert.equal(clientKeyOf(headers, '127.0.0.1', true), '203.0.113.9');
    assert.equal(clientKeyOf({}, '127.0.0.1', true), '127.0.0.1');
  });
});
