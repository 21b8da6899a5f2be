import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { handlers } from '../../examples/new-handlers.js';
import { AUTH_FAILURE_DEFAULTS } from '../../src/config/defaults.js';
import { exchange } from '../support/raw-http.js';
import { startFlask, type LegacyServer } from '../support/legacy-apps.js';
import { captureLogger, flagsText, listen, type Listening } from '../support/switchyard-harness.js';

const ADMIN = 'admin-token-0123456789abcdef';
const METRICS = 'metrics-token-0123456789abcdef';
const OVERRIDE = 'override-token-0123456789abcdef';

let flask: LegacyServer;
before(async () => {
  flask = await startFlask({ workers: 1 });
});
after(async () => {
  await flask?.stop();
});

const flags = (): string => `
upstreams:
  flask: { url: "${flask.url}" }
routes:
  - name: hello
    path: /flask/hello
    legacy: { upstream: flask, stripPrefix: /flask }
    new: { handler: hello }
    mode: legacy
`;

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A request from `from` (any 127.x address is this host on Linux: a second client without a second machine). */
function send(base: string, path: string, headers: Record<string, string>, from = '127.0.0.1', method = 'GET'): Promise<Answer> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, path, method, headers, localAddress: from, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

async function withSwitchyard(run: (l: Listening, clock: { t: number }) => Promise<void>, options: { admin?: string | null; metrics?: boolean } = {}): Promise<void> {
  const clock = { t: 1_000_000 };
  const l = await listen({
    flags: flagsText(flags()),
    handlers,
    logger: captureLogger(),
    adminToken: options.admin === undefined ? ADMIN : options.admin,
    overrideToken: OVERRIDE,
    metrics: { prometheus: options.metrics ?? true, token: METRICS },
    authFailures: { now: () => clock.t },
  });
  try {
    await run(l, clock);
  } finally {
    await l.close();
  }
}

const { maxFailures, blockMs } = AUTH_FAILURE_DEFAULTS;

describe('brute force on the tokens is rate-limited per client address', () => {
  it(`admin token: after ${maxFailures} wrong tokens the address gets 429 + Retry-After — even with the right token — until the block ends; other addresses are served`, async () => {
    await withSwitchyard(async (l, clock) => {
      for (let i = 0; i < maxFailures; i++) {
        const wrong = await send(l.url, '/_switchyard/routes', bearer(`${ADMIN.slice(0, -2)}${String(i).padStart(2, '0')}`));
        assert.equal(wrong.status, 403, `guess ${i}`);
      }
      const blocked = await send(l.url, '/_switchyard/routes', bearer(ADMIN));
      assert.equal(blocked.status, 429);
      assert.match(blocked.headers['content-type'] ?? '', /^application\/problem\+json/);
      assert.equal(blocked.headers['retry-after'], String(blockMs / 1000));
      assert.equal(JSON.parse(blocked.body).code, 'SWITCHYARD_AUTH_RATE_LIMITED');
      assert.equal((await send(l.url, '/_switchyard/routes', bearer(ADMIN), '127.0.0.2')).status, 200, 'another address is not blocked');
      assert.equal((await send(l.url, '/_switchyard/metrics', bearer(METRICS))).status, 200, 'the metrics token has its own count');
      assert.equal((await send(l.url, '/flask/hello', {})).status, 200, 'ordinary traffic from the address is unaffected');
      clock.t += blockMs - 1_000;
      const later = await send(l.url, '/_switchyard/routes', bearer(ADMIN));
      assert.equal(later.status, 429);
      assert.equal(later.headers['retry-after'], '1');
      clock.t += 1_000;
      assert.equal((await send(l.url, '/_switchyard/routes', bearer(ADMIN))).status, 200, 'served again once the block is over');
    });
  });

  it('metrics token: the same brake, its own count', async () => {
    await withSwitchyard(async (l) => {
      for (let i = 0; i < maxFailures; i++) assert.equal((await send(l.url, '/_switchyard/metrics', bearer(`${METRICS}x`))).status, 403);
      const blocked = await send(l.url, '/_switchyard/metrics', bearer(METRICS));
      assert.equal(blocked.status, 429);
      assert.equal(JSON.parse(blocked.body).code, 'SWITCHYARD_AUTH_RATE_LIMITED');
      assert.equal((await send(l.url, '/_switchyard/routes', bearer(ADMIN))).status, 200, 'the admin token is a separate count');
      assert.equal((await send(l.url, '/_switchyard/metrics', bearer(METRICS), '127.0.0.3')).status, 200);
    });
  });

  it('override token: wrong tokens are ignored (legacy serves), then requests that try an override get 429; the address\'s other requests are served', async () => {
    await withSwitchyard(async (l) => {
      const force = (token: string, from?: string) => send(l.url, '/flask/hello', { 'x-switchyard-force': 'new', 'x-switchyard-override-token': token }, from);
      assert.equal((await force(OVERRIDE)).headers['x-switchyard-backend'], 'new', 'the right token applies');
      for (let i = 0; i < maxFailures; i++) {
        const ignored = await force(`${OVERRIDE}${i}`);
        assert.equal(ignored.status, 200);
        assert.equal(ignored.headers['x-switchyard-backend'], 'legacy');
      }
      const blocked = await force(OVERRIDE);
      assert.equal(blocked.status, 429);
      assert.equal(blocked.headers['retry-after'], String(blockMs / 1000));
      assert.equal(JSON.parse(blocked.body).code, 'SWITCHYARD_AUTH_RATE_LIMITED');
      const plain = await send(l.url, '/flask/hello', {});
      assert.equal(plain.status, 200, 'a request without X-Switchyard-Force is never refused');
      assert.equal((await force(OVERRIDE, '127.0.0.2')).headers['x-switchyard-backend'], 'new', 'another address still overrides');
      assert.equal(l.switchyard.stats.snapshot().overrides.ignored['rate_limited'], 1);
    });
  });

  it('successful authentication is never limited, and resets the count of wrong ones', async () => {
    await withSwitchyard(async (l) => {
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < maxFailures - 1; i++) assert.equal((await send(l.url, '/_switchyard/routes', bearer('wrong-token-0123456789'))).status, 403);
        assert.equal((await send(l.url, '/_switchyard/routes', bearer(ADMIN))).status, 200);
      }
      for (let i = 0; i < 50; i++) assert.equal((await send(l.url, '/_switchyard/routes', bearer(ADMIN))).status, 200);
      assert.equal((await send(l.url, '/_switchyard/routes', {})).status, 401, 'no token is not a guess: 401, never counted');
    });
  });
});

const EXISTING = ['/_switchyard/routes', '/_switchyard/routes/hello/outcomes?window=5m', '/_switchyard/flags', '/_switchyard/flags/routes/hello', '/_switchyard/flags/kill-switch', '/_switchyard/flags/audit', '/_switchyard/shadow', '/_switchyard/cache', '/_switchyard/cache/purge', '/_switchyard/metrics'];
const MISSING = ['/_switchyard', '/_switchyard/', '/_switchyard/nope', '/_switchyard/routes/nope/outcomes', '/_switchyard/a/b/c?d=e', '/_SWITCHYARD/Routes', '/_switchyard/%zz', '/_switchyard//routes', '/_switchyard/metrics/x'];

async function answersFor(l: Listening, headers: string): Promise<Map<string, string[]>> {
  const answers = new Map<string, string[]>();
  for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']) {
    for (const path of [...EXISTING, ...MISSING]) {
      const body = method === 'PUT' || method === 'POST' ? 'content-type: application/json\r\ncontent-length: 11\r\n\r\n{"on":true}' : '\r\n';
      const answer = (await exchange(l.url, `${method} ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${headers}${body}`)).text.replace(/\r\ndate: [^\r]*/i, '');
      // HEAD has no body: compare it with the other HEADs.
      const key = `${method === 'HEAD' ? 'HEAD ' : ''}${answer}`;
      answers.set(key, [...(answers.get(key) ?? []), `${method} ${path}`]);
    }
  }
  return answers;
}

describe('/_switchyard answers the same whether a path exists or not', () => {
  it('with the admin API (and metrics) off: one 404, byte for byte, for every path, method and body', async () => {
    await withSwitchyard(
      async (l) => {
        const answers = await answersFor(l, '');
        assert.equal(answers.size, 2, [...answers].map(([a, who]) => `${who.slice(0, 3).join(', ')}… → ${a.slice(0, 300)}`).join('\n'));
        for (const answer of answers.keys()) assert.match(answer, /^(HEAD )?HTTP\/1\.1 404 Not Found\r\n/);
        assert.ok([...answers.keys()].some((a) => a.includes('"code":"SWITCHYARD_ADMIN_DISABLED"')));
        // The probes are not the admin API: they answer without a token, on or off.
        assert.equal((await send(l.url, '/_switchyard/healthz', {})).status, 200);
      },
      { admin: null, metrics: false },
    );
  });

  it('with the admin API on: one 401 without a token and one 403 with a wrong one, for every path', async () => {
    await withSwitchyard(
      async (l) => {
        const none = await answersFor(l, '');
        assert.equal(none.size, 2, [...none.keys()].join('\n'));
        for (const answer of none.keys()) assert.match(answer, /^(HEAD )?HTTP\/1\.1 401 /);
        const wrong = await answersFor(l, 'authorization: Bearer not-the-admin-token-at-all\r\n');
        // Each wrong guess counts: the answers turn into 429s part way; still the same for every path.
        for (const answer of wrong.keys()) assert.match(answer, /^(HEAD )?HTTP\/1\.1 (403|429) /);
        assert.ok(wrong.size <= 4, [...wrong.keys()].join('\n'));
      },
      { metrics: false },
    );
  });
});
