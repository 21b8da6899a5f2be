import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RouteConfig } from '../../src/config/types.js';
import { matchPath, parsePathPattern, type PathPattern } from '../../src/routing/path-pattern.js';
import { RouteTable } from '../../src/routing/route-table.js';

function route(name: string, path: string, extra: Partial<RouteConfig> = {}): RouteConfig {
  return {
    name,
    path,
    methods: null,
    legacy: { upstream: 'flask', stripPrefix: '' },
    new: null,
    mode: 'legacy',
    pinned: false,
    flag: name,
    rollout: { percentage: 0, groupId: name, stickiness: [] },
    migration: {},
    file: 'routes.yaml',
    index: 0,
    ...extra,
  };
}

function build(routes: RouteConfig[]): RouteTable {
  const result = RouteTable.build(routes);
  assert.deepEqual(result.errors, []);
  assert.ok(result.table);
  return result.table;
}

function matchName(table: RouteTable, method: string, path: string): string | null {
  const m = table.match(method, path);
  return m.kind === 'matched' ? m.route.config.name : null;
}

const SEED_ROUTES = [
  route('catch-all', '/*'),
  route('flask', '/flask/*'),
  route('django', '/django/*'),
  route('hello', '/flask/hello', { methods: ['GET'], new: { kind: 'handler', handler: 'hello' } }),
  route('user', '/flask/users/:id', { new: { kind: 'handler', handler: 'user' } }),
  route('user-orders', '/flask/users/:id/orders'),
  route('root', '/'),
];

describe('route table: most specific wins', () => {
  const cases: [string, string, string | null][] = [
    ['GET', '/flask/hello', 'hello'],
    ['POST', '/flask/hello', 'flask'],
    ['HEAD', '/flask/hello', 'hello'],
    ['GET', '/flask/hello/more', 'flask'],
    ['GET', '/flask', 'flask'],
    ['GET', '/flask/', 'flask'],
    ['GET', '/flask/users/7', 'user'],
    ['GET', '/flask/users/7/orders', 'user-orders'],
    ['GET', '/flask/users/', 'flask'],
    ['GET', '/flaskx/hello', 'catch-all'],
    ['GET', '/django/hello/', 'django'],
    ['GET', '/', 'root'],
    ['GET', '/anything/else', 'catch-all'],
  ];
  for (const [method, path, expected] of cases) {
    it(`${method} ${path} → ${expected}`, () => assert.equal(matchName(build(SEED_ROUTES), method, path), expected));
  }

  it('gives the same answers whatever the order of the routes', () => {
    const reversed = build([...SEED_ROUTES].reverse());
    const shuffled = build([SEED_ROUTES[3]!, SEED_ROUTES[0]!, SEED_ROUTES[5]!, SEED_ROUTES[1]!, SEED_ROUTES[6]!, SEED_ROUTES[2]!, SEED_ROUTES[4]!]);
    for (const [method, path, expected] of cases) {
      assert.equal(matchName(reversed, method, path), expected, `${method} ${path} reversed`);
      assert.equal(matchName(shuffled, method, path), expected, `${method} ${path} shuffled`);
    }
  });

  it('captures and decodes params', () => {
    const m = build(SEED_ROUTES).match('GET', '/flask/users/a%20b');
    assert.equal(m.kind, 'matched');
    assert.deepEqual(m.kind === 'matched' ? { ...m.params } : null, { id: 'a b' });
  });

  it('answers method-not-allowed with the routed methods when no route takes the method', () => {
    const table = build([route('hello', '/hello', { methods: ['GET', 'POST'] })]);
    assert.deepEqual(table.match('DELETE', '/hello'), { kind: 'method-not-allowed', allowed: ['GET', 'POST'] });
    assert.deepEqual(table.match('GET', '/nope'), { kind: 'none' });
  });

  it('lets two routes share a path when their methods do not overlap', () => {
    const table = build([route('read', '/items', { methods: ['GET'] }), route('write', '/items', { methods: ['POST', 'PUT'] })]);
    assert.equal(matchName(table, 'GET', '/items'), 'read');
    assert.equal(matchName(table, 'PUT', '/items'), 'write');
  });
});

describe('route table: conflicts and warnings', () => {
  it('rejects two routes claiming the same path and method, naming both', () => {
    const result = RouteTable.build([route('a', '/users/:id', { methods: ['GET'] }), route('b', '/users/:uid', { methods: ['GET', 'POST'], file: 'more.yaml' })]);
    assert.equal(result.table, null);
    assert.equal(result.errors.length, 1);
    assert.match(result.errors[0]!.reason, /`[ab]`.*same path and method.*`[ab]`/);
  });

  it('treats a route without methods as claiming every method', () => {
    const result = RouteTable.build([route('a', '/x'), route('b', '/x', { methods: ['GET'] })]);
    assert.equal(result.errors.length, 1);
  });

  it('treats GET as claiming HEAD: an explicit HEAD route beside a GET route is a conflict', () => {
    const result = RouteTable.build([route('a-get', '/x', { methods: ['GET'] }), route('b-head', '/x', { methods: ['HEAD'] })]);
    assert.equal(result.errors.length, 1);
  });

  it('warns when a legacy mount swallows paths of a new route, naming both', () => {
    const result = RouteTable.build([route('flask', '/flask/*'), route('any-hello', '/:app/hello', { new: { kind: 'handler', handler: 'h' } })]);
    assert.ok(result.warnings.some((w) => w.includes('`flask`') && w.includes('swallows') && w.includes('`any-hello`')), result.warnings.join('\n'));
    const m = result.table!.match('GET', '/flask/hello');
    assert.equal(m.kind === 'matched' ? m.route.config.name : null, 'flask');
  });

  it('warns when a new route lies inside a legacy mount, naming both', () => {
    const result = RouteTable.build(SEED_ROUTES);
    const hello = result.warnings.find((w) => w.includes('`hello`') && w.includes('`flask`'));
    assert.ok(hello, result.warnings.join('\n'));
    assert.ok(result.warnings.some((w) => w.includes('`user`') && w.includes('`catch-all`')));
    // Legacy-only routes inside a mount are not a migration hazard: no warning.
    assert.ok(!result.warnings.some((w) => w.startsWith('route `user-orders`')));
  });

  it('rejects invalid patterns with the reason', () => {
    for (const [path, reason] of [
      ['/a/*/b', /last segment/],
      ['/a/b*', /whole segment/],
      ['/a/:x/:x', /twice/],
      ['/a//b', /empty segment/],
      ['/a/../b', /dot segments/],
      ['/a/:1x', /parameter names/],
      ['/a b', /not allowed/],
      ['/fl%61sk', /percent-escapes/],
    ] as const) {
      const parsed = parsePathPattern(path);
      assert.equal(parsed.ok, false, path);
      if (!parsed.ok) assert.match(parsed.reason, reason, path);
    }
  });
});

/** The definition matchPath walks in place: the path split into segments, compared one by one. */
function matchBySplitting(pattern: PathPattern, path: string): Record<string, string> | null {
  const segments = path.slice(1).split('/');
  const params: Record<string, string> = {};
  for (const [i, seg] of pattern.segments.entries()) {
    if (seg.kind === 'rest') return params;
    const actual = segments[i];
    if (actual === undefined) return null;
    if (seg.kind === 'literal' && seg.value !== actual) return null;
    if (seg.kind === 'param') {
      if (actual === '') return null;
      try {
        params[seg.name] = decodeURIComponent(actual);
      } catch {
        params[seg.name] = actual;
      }
    }
  }
  return segments.length === pattern.segments.length ? params : null;
}

describe('matchPath', () => {
  const patterns = ['/', '/flask', '/flask/', '/flask/*', '/*', '/users/:id', '/users/:id/orders/:order', '/a/:x/*', '/a/b/c', '/fl', '/flask/hello'];
  const paths = ['/', '/flask', '/flask/', '/flask/hello', '/flask/hello/', '/flaskx', '/fl', '/users', '/users/', '/users/42', '/users/4%2F2', '/users/%E0%A4%A', '/users/42/orders/7', '/users/42/orders/', '/a/1', '/a/1/', '/a/1/2/3', '/a/b/c', '/a/b/c/', '/a/b', '//', '/flask//hello'];
  it('answers exactly as splitting the path into segments would, on every pattern × path pair', () => {
    for (const source of patterns) {
      const parsed = parsePathPattern(source);
      assert.ok(parsed.ok, source);
      for (const path of paths) assert.deepEqual(matchPath(parsed.pattern, path), matchBySplitting(parsed.pattern, path), `${source} against ${path}`);
    }
  });
  it('known answers', () => {
    const p = (s: string): PathPattern => {
      const r = parsePathPattern(s);
      assert.ok(r.ok);
      return r.pattern;
    };
    assert.deepEqual(matchPath(p('/flask/*'), '/flask'), {});
    assert.equal(matchPath(p('/flask'), '/flask/'), null);
    assert.equal(matchPath(p('/flask'), '/flaskx'), null);
    assert.deepEqual(matchPath(p('/users/:id'), '/users/4%2F2'), { id: '4/2' });
    assert.equal(matchPath(p('/users/:id'), '/users/'), null);
    assert.deepEqual(matchPath(p('/'), '/'), {});
    assert.equal(matchPath(p('/'), '/x'), null);
  });
});
