import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { WebhookNotifier } from '../../src/canary/canary-webhook.js';
import type { CanaryEvent } from '../../src/canary/canary-run.js';
import { adminClient, waitFor } from '../support/canary-harness.js';
import { freePort } from '../support/legacy-apps.js';
import { captureLogger, flagsText, listen } from '../support/switchyard-harness.js';

/** The optional webhook: JSON POSTs, retried, and never in the run's way. */
interface Hook {
  readonly url: string;
  readonly bodies: unknown[];
  attempts: number;
  close(): Promise<void>;
}

/** A receiver that answers 500 to the first `failFirst` requests, then 204. */
async function receiver(failFirst = 0): Promise<Hook> {
  const hook: Hook = { url: '', bodies: [], attempts: 0, close: () => Promise.resolve() };
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      hook.attempts++;
      if (hook.attempts <= failFirst) return void res.writeHead(500).end();
      hook.bodies.push({ contentType: req.headers['content-type'], body: JSON.parse(text) as unknown });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(hook, { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
}

const event: CanaryEvent = {
  at: '2026-01-01T00:00:00.000Z',
  by: 'autopilot',
  action: 'promote',
  reason: 'promoted from 1% to 5%',
  from: { status: 'running', stage: { kind: 'step', index: 1, percentage: 1 }, percentage: 1 },
  to: { status: 'running', stage: { kind: 'step', index: 2, percentage: 5 }, percentage: 5 },
};

describe('canary webhook', () => {
  it('POSTs the event as JSON and retries failures', async () => {
    const hook = await receiver(2);
    const notifier = new WebhookNotifier({ url: hook.url, retries: 3, timeoutMs: 1000, logger: captureLogger(), backoffMs: () => 10 });
    try {
      notifier.notify('users', 'run-1', event);
      await waitFor(() => Promise.resolve(hook.bodies.length), (n) => n === 1, 5000);
      assert.equal(hook.attempts, 3);
      assert.deepEqual(hook.bodies[0], { contentType: 'application/json', body: { type: 'switchyard.canary.event', route: 'users', runId: 'run-1', event } });
    } finally {
      await notifier.close();
      await hook.close();
    }
  });

  it('a webhook that stays down is logged after its retries; notify never throws or waits', async () => {
    const logger = captureLogger();
    const notifier = new WebhookNotifier({ url: `http://127.0.0.1:${await freePort()}/hook`, retries: 2, timeoutMs: 500, logger, backoffMs: () => 10 });
    notifier.notify('users', 'run-1', event);
    await notifier.close();
    assert.ok(logger.lines.some((l) => /^warn: canary webhook: users promote not delivered after 3 attempts/.test(l)), logger.lines.join('\n'));
  });

  it('settings.canary.webhook: a started run reaches the webhook; a down webhook does not stop the control', async () => {
    const hook = await receiver();
    const flags = (url: string) => `
upstreams:
  flask: { url: "http://127.0.0.1:9" }
routes:
  - name: users
    path: /users/:id
    legacy: { upstream: flask }
    new: { handler: user }
    canary: {}
settings:
  canary: { webhook: { url: "${url}", retries: 0 } }
`;
    const token = 'canary-webhook-token-0123456789';
    const sy = await listen({ flags: flagsText(flags(hook.url)), handlers: { user: (_req, res) => void res.json({}) }, adminToken: token, logger: captureLogger(), cache: { redisUrl: null } });
    const down = await listen({ flags: flagsText(flags(`http://127.0.0.1:${await freePort()}/hook`)), handlers: { user: (_req, res) => void res.json({}) }, adminToken: token, logger: captureLogger(), cache: { redisUrl: null } });
    try {
      const started = await adminClient(sy.url, token).control('users', 'start', { reason: 'go', by: 'alice' });
      assert.equal(started.status, 200);
      await waitFor(() => Promise.resolve(hook.bodies.length), (n) => n === 1, 5000);
      const got = hook.bodies[0] as { body: { route: string; event: CanaryEvent } };
      assert.equal(got.body.route, 'users');
      assert.deepEqual([got.body.event.action, got.body.event.by, got.body.event.reason], ['start', 'alice', 'go']);
      const unaffected = await adminClient(down.url, token).control('users', 'start', { reason: 'go', by: 'alice' });
      assert.equal(unaffected.status, 200);
      assert.equal(unaffected.body.status, 'running');
    } finally {
      await sy.close();
      await down.close();
      await hook.close();
    }
  });
});
