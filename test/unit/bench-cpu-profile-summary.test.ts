import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { categoryOf, formatSummary, summariseProfile, type CpuProfile } from '../../bench/cpu-profile-summary.js';

const ROOT = '/repo';
const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber });

// Six samples over 1,000 µs: idle 100+330, writev 200, routeRequest 150+100 (two nodes, one function), GC 120.
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)') },
    { id: 2, callFrame: frame('(idle)') },
    { id: 3, callFrame: frame('writev') },
    { id: 4, callFrame: frame('routeRequest', 'file:///repo/dist/src/server/switch-middleware.js', 93) },
    { id: 5, callFrame: frame('routeRequest', 'file:///repo/dist/src/server/switch-middleware.js', 93) },
    { id: 6, callFrame: frame('(garbage collector)') },
  ],
  startTime: 1_000,
  endTime: 2_000,
  // Sample times: 1000, 1100, 1300, 1450, 1550, 1670; the last runs to endTime.
  samples: [2, 3, 4, 5, 6, 2],
  timeDeltas: [0, 100, 200, 150, 100, 120],
};

describe('CPU profile summary for bench:profile (pure)', () => {
  it('charges each sample the interval to the next, merges a function seen at several nodes, leaves idle out', () => {
    const s = summariseProfile(profile, ROOT);
    assert.equal(s.totalUs, 1_000);
    assert.equal(s.idleUs, 100 + 330);
    assert.equal(s.busyUs, 570);
    assert.deepEqual(s.categories, [
      { category: 'Switchyard', us: 250 },
      { category: 'native (builtins, syscalls)', us: 200 },
      { category: 'GC', us: 120 },
    ]);
    assert.deepEqual(s.functions[0], { name: 'routeRequest dist/src/server/switch-middleware.js:94', category: 'Switchyard', us: 250 });
    assert.equal(s.functions.length, 3);
  });

  it('tells Switchyard from the bench servers, packages, undici (and its wasm parser), Node core and V8', () => {
    assert.equal(categoryOf(frame('f', 'file:///repo/src/app.ts'), ROOT), 'Switchyard');
    assert.equal(categoryOf(frame('f', 'file:///repo/node_modules/undici/lib/core/request.js'), ROOT), 'undici');
    assert.equal(categoryOf(frame('js-to-wasm:iii:i', 'wasm://wasm/00034eea'), ROOT), 'undici');
    assert.equal(categoryOf(frame('f', 'file:///repo/node_modules/@opentelemetry/api/build/src/api/trace.js'), ROOT), 'other packages');
    assert.equal(categoryOf(frame('f', 'file:///elsewhere/src/x.js'), ROOT), 'other packages', "another checkout's src is not ours");
    assert.equal(categoryOf(frame('bareJson', 'file:///repo/dist/bench/servers.js'), ROOT), 'bench server');
    assert.equal(categoryOf(frame('emit', 'node:events'), ROOT), 'Node core (JS)');
    assert.equal(categoryOf(frame('(program)'), ROOT), 'V8 (program)');
    assert.equal(categoryOf(frame('(idle)'), ROOT), 'idle');
  });

  it('reports µs per request and shares of the busy time', () => {
    const text = formatSummary(summariseProfile(profile, ROOT), 4);
    assert.match(text, /\*\*142\.50 µs per request\*\*/);
    assert.match(text, /\| Switchyard \| 62\.50 \| 43\.9% \|/);
    assert.match(text, /\| `writev` \| native \(builtins, syscalls\) \| 50\.00 \| 35\.1% \|/);
    assert.match(formatSummary(summariseProfile(profile, ROOT), 0), /\*\*– µs per request\*\*/, 'no requests: no per-request figure');
  });
});
