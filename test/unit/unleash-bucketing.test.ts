import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InMemStorageProvider, Unleash } from 'unleash-client';
import type { RouteConfig } from '../../src/config/types.js';
import { rolloutBucket } from '../../src/flags/bucketing.js';
import { decideRoute } from '../../src/routing/routing-decision.js';
import { stickinessValue } from '../../src/routing/stickiness.js';

const USERS = Array.from({ length: 10_000 }, (_, i) => `user-${i}-${(i * 2654435761) % 9973}`);
// Non-ASCII ids too: murmurhash3js hashes UTF-16 code units, which a UTF-8 implementation would get wrong.
// (No empty id: Switchyard never buckets on one — an empty header counts as absent, see stickiness tests.)
USERS.push('Zoë', 'Jürgen', '山田太郎', '😀-emoji');
// And many more, as a client sends them: UTF-8 bytes in the X-User-Id header.
const ALPHABETS = ['àéîõüçñøåß', 'абвгдеёжзий', 'αβγδεζηθ', '山田太郎花子東京', 'ㄱㄴㄷ한국어', 'ابتثجح', '😀🚀🎉👍', 'ﬁ№€™'];
for (let i = 0; i < 1_500; i++) {
  const alphabet = [...ALPHABETS[i % ALPHABETS.length]!];
  USERS.push(`${i % 3 === 0 ? 'user-' : ''}${alphabet[(i * 7) % alphabet.length]}${alphabet[(i * 13) % alphabet.length]}-${i}`);
}

/** The header value Node's HTTP parser hands over for these UTF-8 bytes: one Latin-1 character per byte. */
const onTheWire = (id: string): string => Buffer.from(id, 'utf8').toString('latin1');

function rolloutRoute(name: string, percentage: number, groupId = name): RouteConfig {
  return {
    name,
    path: `/${name}`,
    methods: null,
    legacy: { upstream: 'flask', stripPrefix: '' },
    new: { kind: 'handler', handler: 'h' },
    mode: 'rollout',
    pinned: false,
    flag: name,
    rollout: { percentage, groupId, stickiness: [{ header: 'X-User-Id' }] },
    migration: {},
    file: 'test.yaml',
    index: 0,
  };
}

function decide(route: RouteConfig, userId: string): boolean {
  return decideRoute({ route, killSwitch: false, override: null, stickinessValue: () => userId }).side === 'new';
}

/** As a request decides: the id read from the X-User-Id header the way the switch reads it. */
function decideFromHeader(route: RouteConfig, userId: string): boolean {
  const value = stickinessValue({ 'x-user-id': onTheWire(userId) }, route.rollout.stickiness, () => assert.fail('no stickiness value'));
  return decide(route, value);
}

function unleashToggle(name: string, percentage: number, groupId = name) {
  return {
    name,
    enabled: true,
    type: 'release',
    project: 'default',
    stale: false,
    impressionData: false,
    strategies: [{ name: 'flexibleRollout', parameters: { rollout: String(percentage), stickiness: 'userId', groupId }, constraints: [] }],
    variants: [],
  };
}

describe('rollout bucketing is identical to unleash-client flexibleRollout', () => {
  let unleash: Unleash;
  const percentages = [0, 1, 25, 33, 50, 99, 100];

  before(async () => {
    unleash = new Unleash({
      // Nothing listens on port 9 of loopback: the client runs from its bootstrap alone.
      url: 'http://127.0.0.1:9/api/',
      appName: 'switchyard-bucketing-test',
      refreshInterval: 0,
      disableMetrics: true,
      storageProvider: new InMemStorageProvider(),
      bootstrap: { data: [...percentages.map((p) => unleashToggle(`route-${p}`, p)), unleashToggle('grouped', 25, 'shared-group')] as never },
    });
    unleash.on('error', () => {});
    unleash.on('warn', () => {});
    await new Promise<void>((resolve) => unleash.once('ready', () => resolve()));
  });

  after(() => unleash.destroy());

  for (const percentage of percentages) {
    it(`agrees on all ${USERS.length} user ids at ${percentage}%, sent as UTF-8 X-User-Id headers`, () => {
      const route = rolloutRoute(`route-${percentage}`, percentage);
      const disagreements = USERS.filter((u) => decideFromHeader(route, u) !== unleash.isEnabled(route.name, { userId: u }));
      assert.deepEqual(disagreements, []);
    });
  }

  it('the non-ASCII ids would land elsewhere if bucketed on their Latin-1 reading', () => {
    // Guards the test itself: the header path is what makes the ids above agree.
    const route = rolloutRoute('route-50', 50);
    const nonAscii = USERS.filter((u) => /[\u0080-\uffff]/.test(u));
    assert.ok(nonAscii.length >= 1_500);
    assert.ok(nonAscii.filter((u) => decide(route, onTheWire(u)) !== unleash.isEnabled(route.name, { userId: u })).length > 300);
  });

  it('honours a groupId other than the flag name', () => {
    const route = rolloutRoute('grouped', 25, 'shared-group');
    const disagreements = USERS.filter((u) => decide(route, u) !== unleash.isEnabled('grouped', { userId: u }));
    assert.deepEqual(disagreements, []);
    // And the groupId really matters: the same users bucket differently without it.
    const ungrouped = rolloutRoute('grouped', 25);
    assert.ok(USERS.some((u) => decide(route, u) !== decide(ungrouped, u)));
  });
});

describe('rollout statistics and stickiness', () => {
  const ids = Array.from({ length: 10_000 }, (_, i) => String(100_000 + i));

  it('puts 25% of 10,000 ids on the new side, within ±1.5%', () => {
    const share = ids.filter((id) => decide(rolloutRoute('users', 25), id)).length / ids.length;
    assert.ok(Math.abs(share - 0.25) <= 0.015, `share was ${share}`);
  });

  it('keeps every user of the first 25% on the new side when raised to 50%', () => {
    const at25 = ids.filter((id) => decide(rolloutRoute('users', 25), id));
    const at50 = new Set(ids.filter((id) => decide(rolloutRoute('users', 50), id)));
    assert.ok(at25.length > 0);
    assert.deepEqual(at25.filter((id) => !at50.has(id)), []);
    assert.ok(Math.abs(at50.size / ids.length - 0.5) <= 0.015, `share at 50% was ${at50.size / ids.length}`);
  });

  it('buckets into 1..100', () => {
    const buckets = new Set(ids.map((id) => rolloutBucket('users', id)));
    assert.equal(Math.min(...buckets), 1);
    assert.equal(Math.max(...buckets), 100);
  });
});
