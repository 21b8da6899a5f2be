import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import supertest from 'supertest';
import { createSwitchyard } from '../../src/app.js';
import { compileFlags } from '../../src/config/validate-flags.js';
import { silentLogger } from '../../src/logging/logger.js';

const ADMIN = 'admin-token-0123456789abcdef';
const FLAGS = [
  {
    file: 'a.yaml',
    text: 'upstreams:\n  flask: { url: "http://127.0.0.1:9" }\nroutes:\n  - name: catch-all\n    path: /*\n    legacy: { upstream: flask }\n  - name: hello\n    path: /hello\n    new: { handler: hello }\n  - name: both\n    path: /both\n    legacy: { upstream: flask }\n    new: { handler: hello }\n',
  },
];
const make = (adminToken: string | null) => createSwitchyard({ flags: FLAGS, handlers: { hello: (_q, r) => void r.json({}) }, watch: false, logger: silentLogger, adminToken });

describe('admin API access', () => {
  it('is off (404, saying how to enable it) without a token — even where a catch-all route exists', async () => {
    const sy = await make(null);
    const res = await supertest(sy.app).get('/_switchyard/routes').expect(404);
    assert.equal(res.body.code, 'SWITCHYARD_ADMIN_DISABLED');
    assert.match(res.body.detail, /SWITCHYARD_ADMIN_TOKEN/);
    await sy.close();
  });

  it('a token shorter than 16 characters is refused at start-up, naming the option', async () => {
    await assert.rejects(make('short-token'), (error: Error) => /<options>: adminToken: must be at least 16 characters/.test(error.message));
    await assert.rejects(
      createSwitchyard({ flags: FLAGS, handlers: { hello: (_q, r) => void r.json({}) }, watch: false, logger: silentLogger, overrideToken: 'abc' }),
      (error: Error) => /<options>: overrideToken: must be at least 16 characters/.test(error.message),
    );
  });

  it('a route named like an Object.prototype member still reports its decisions', async () => {
    const sy = await createSwitchyard({
      flags: [{ file: 'c.yaml', text: 'routes:\n  - name: constructor\n    path: /c\n    new: { handler: hello }\n' }],
      handlers: { hello: (_q, r) => void r.json({}) },
      watch: false,
      logger: silentLogger,
      adminToken: ADMIN,
    });
    try {
      await supertest(sy.app).get('/c').expect(200);
      const res = await supertest(sy.app).get('/_switchyard/routes').set('Authorization', `Bearer ${ADMIN}`).expect(200);
      const route = (res.body.routes as { name: string; decisions: unknown }[]).find((r) => r.name === 'constructor');
      assert.deepEqual(route?.decisions, { legacy: 0, new: 1 });
    } finally {
      await sy.close();
    }
  });

  it('401 without a bearer token, 403 with a wrong one, 200 with the right one', async () => {
    const sy = await make(ADMIN);
    const none = await supertest(sy.app).get('/_switchyard/routes').expect(401);
    assert.equal(none.headers['www-authenticate'], 'Bearer realm="switchyard"');
    assert.match(none.headers['content-type'] ?? '', /problem\+json/);
    assert.equal(none.body.title, 'Unauthorized');
    await supertest(sy.app).get('/_switchyard/routes').set('Authorization', 'Basic abc').expect(401);
    const wrong = await supertest(sy.app).get('/_switchyard/routes').set('Authorization', `Bearer ${ADMIN}x`).expect(403);
    assert.equal(wrong.body.title, 'Forbidden');
    const ok = await supertest(sy.app).get('/_switchyard/routes').set('Authorization', `Bearer ${ADMIN}`).expect(200);
    assert.equal(ok.body.flagVersion, sy.config.version);
    const routes = ok.body.routes as { name: string }[];
    assert.deepEqual(routes.map((r) => r.name).sort(), ['both', 'catch-all', 'hello']);
    await supertest(sy.app).get('/_switchyard/nope').set('Authorization', `Bearer ${ADMIN}`).expect(404);
    await sy.close();
  });

  it('the routes view shows the effective state: a runtime override, not the file mode', async () => {
    const sy = await make(ADMIN);
    const auth = { Authorization: `Bearer ${ADMIN}` };
    const before = await supertest(sy.app).get('/_switchyard/routes').set(auth).expect(200);
    const both = (body: { routes: { name: string; mode: string; percentage?: number; source: string }[] }) => body.routes.find((r) => r.name === 'both');
    assert.deepEqual([both(before.body)?.mode, both(before.body)?.source], ['legacy', 'file']);
    await supertest(sy.app).put('/_switchyard/flags/routes/both').set(auth).send({ percentage: 30, reason: 'canary' }).expect(200);
    const after = await supertest(sy.app).get('/_switchyard/routes').set(auth).expect(200);
    assert.deepEqual([both(after.body)?.mode, both(after.body)?.percentage, both(after.body)?.source], ['rollout', 30, 'override']);
    await sy.close();
  });

  it('routes cannot claim paths under /_switchyard', () => {
    const result = compileFlags([{ file: 'a.yaml', text: 'upstreams:\n  flask: { url: "http://x" }\nroutes:\n  - name: a\n    path: /_switchyard/x\n    legacy: { upstream: flask }\n' }], { handlerNames: new Set() });
    assert.ok(!result.ok && result.issues.some((i) => /admin API/.test(i.reason)));
  });
});
