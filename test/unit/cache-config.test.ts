import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CACHE_SETTINGS_DEFAULTS, ROUTE_CACHE_DEFAULTS } from '../../src/config/defaults.js';
import { compileFlags } from '../../src/config/validate-flags.js';
import { formatConfigIssue } from '../../src/errors/switchyard-error.js';

const UPSTREAMS = 'upstreams:\n  flask: { url: "http://127.0.0.1:8001" }\n';

function compile(text: string) {
  return compileFlags([{ file: 'c.yaml', text }], { handlerNames: new Set(['hello']) });
}

function problems(text: string): string[] {
  const result = compile(text);
  return result.ok ? [] : result.issues.map(formatConfigIssue);
}

const route = (cache: string, extra = '') => `${UPSTREAMS}routes:\n  - name: shop\n    path: /shop/*\n    legacy: { upstream: flask }\n${extra}    cache: ${cache}\n`;

describe('flags: the route `cache` block and `settings.cache`', () => {
  it('an empty block turns caching on with every default', () => {
    const result = compile(route('{}'));
    assert.ok(result.ok);
    assert.deepEqual(result.config.routes[0]?.cache, ROUTE_CACHE_DEFAULTS);
    assert.deepEqual(result.config.settings.cache, CACHE_SETTINGS_DEFAULTS);
  });

  it('fields override defaults; enabled: false (or no block) means no cache', () => {
    const result = compile(route('{ defaultTtlSeconds: 5, cacheUnmarked: true, staleIfErrorSeconds: 600, maxEntryBytes: 4096 }'));
    assert.ok(result.ok);
    assert.deepEqual(result.config.routes[0]?.cache, { ...ROUTE_CACHE_DEFAULTS, defaultTtlSeconds: 5, cacheUnmarked: true, staleIfErrorSeconds: 600, maxEntryBytes: 4096 });
    const off = compile(route('{ enabled: false, defaultTtlSeconds: 5 }'));
    assert.ok(off.ok && off.config.routes[0]?.cache === undefined);
    const none = compile(`${UPSTREAMS}routes:\n  - name: shop\n    path: /shop/*\n    legacy: { upstream: flask }\n`);
    assert.ok(none.ok && none.config.routes[0]?.cache === undefined);
  });

  it('settings.cache merges over the defaults', () => {
    const result = compile(`${route('{}')}settings:\n  cache: { namespace: shop-prod, keyVersion: 3 }\n`);
    assert.ok(result.ok);
    assert.deepEqual(result.config.settings.cache, { ...CACHE_SETTINGS_DEFAULTS, namespace: 'shop-prod', keyVersion: 3 });
  });

  it('unknown keys, bad values and contradictions name file, line, field and reason', () => {
    const cases: [string, RegExp][] = [
      [route('{ ttl: 5 }'), /^c\.yaml:7: routes\[0\]\.cache\.ttl: unknown option$/],
      [route('{ maxEntryBytes: 0 }'), /^c\.yaml:7: routes\[0\]\.cache\.maxEntryBytes: must be >= 1$/],
      [route('{ defaultTtlSeconds: -1 }'), /routes\[0\]\.cache\.defaultTtlSeconds: must be >= 0/],
      [route('{ cacheUnmarked: "yes" }'), /routes\[0\]\.cache\.cacheUnmarked: must be boolean/],
      [route('{ defaultTtlSeconds: 600, maxTtlSeconds: 60 }'), /^c\.yaml:\d+: routes\[0\]\.cache\.defaultTtlSeconds: must be <= cache\.maxTtlSeconds \(60\)$/],
      [route('{}', '    methods: [POST]\n'), /routes\[0\]\.cache: only GET and HEAD responses are cached, and this route only routes POST/],
      [`${UPSTREAMS}routes:\n  - name: h\n    path: /h\n    new: { handler: hello }\n    cache: {}\n`, /routes\[0\]\.cache: the cache stores legacy responses, and this route has no `legacy` side/],
      [`${route('{}')}settings:\n  cache: { namespace: "a b" }\n`, /settings\.cache\.namespace: must match pattern/],
      [`${route('{}')}settings:\n  cache: { redis: "redis://x" }\n`, /settings\.cache\.redis: unknown option/],
    ];
    for (const [text, expected] of cases) {
      const found = problems(text);
      assert.ok(found.some((p) => expected.test(p)), `expected ${expected} in:\n${found.join('\n') || '(no problems)'}`);
    }
  });
});
