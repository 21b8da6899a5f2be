/**
 * Found by npm run chaos: when Switchyard's event loop stalls (GC, a starved CPU) longer than an
 * upstream timeout, the timer fires in the same loop turn in which the connect or the answer
 * that arrived in time is waiting to be read — and a healthy backend was answered 504. The
 * timers now look once more after that I/O. The backend runs in its own process so it answers
 * while this process is blocked.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { armTimers } from '../../src/proxy/upstream-timers.js';

const SERVER = `require('node:http').createServer((q, s) => { q.resume(); q.on('end', () => s.end('ok')); }).listen(0, '127.0.0.1', function () { process.stdout.write(String(this.address().port) + '\\n'); });`;

/** Blocks this process's event loop, as a long GC pause or a starved CPU would. */
function stall(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy
  }
}

describe('upstream timers after an event-loop stall', () => {
  let server: ChildProcess;
  let port = 0;
  before(async () => {
    server = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
    port = await new Promise<number>((resolve) => server.stdout!.once('data', (c: Buffer) => resolve(Number(c.toString().trim()))));
  });
  after(() => void server.kill('SIGKILL'));

  const call = (settings: { connectTimeoutMs: number; responseTimeoutMs: number }, stallAt: 'socket' | 'finish'): Promise<string> =>
    new Promise((resolve) => {
      const request = http.request({ host: '127.0.0.1', port, path: '/', agent: new http.Agent({ keepAlive: false }) });
      armTimers(request, { name: 'backend', ...settings });
      // After the connect was issued (or the request sent), the process stalls past the timeout.
      request.once(stallAt, () => setImmediate(() => stall(300)));
      request.once('response', (res) => {
        res.resume();
        res.once('end', () => resolve(`answered ${res.statusCode}`));
      });
      request.once('error', (error: Error & { code?: string }) => resolve(`failed ${error.code ?? error.message}`));
      request.end();
    });

  it('a connect that completed during the stall is not a connect timeout', async () => {
    assert.equal(await call({ connectTimeoutMs: 20, responseTimeoutMs: 5_000 }, 'socket'), 'answered 200');
  });

  it('an answer that arrived during the stall is not a response timeout (nor an idle one)', async () => {
    assert.equal(await call({ connectTimeoutMs: 5_000, responseTimeoutMs: 50 }, 'finish'), 'answered 200');
  });

  it('a backend that really does not answer still times out (504)', async () => {
    const silent = spawn(process.execPath, ['-e', `require('node:net').createServer(() => {}).listen(0, '127.0.0.1', function () { process.stdout.write(String(this.address().port) + '\\n'); });`], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const silentPort = await new Promise<number>((resolve) => silent.stdout.once('data', (c: Buffer) => resolve(Number(c.toString().trim()))));
      const outcome = await new Promise<string>((resolve) => {
        const request = http.request({ host: '127.0.0.1', port: silentPort, path: '/', agent: new http.Agent({ keepAlive: false }) });
        armTimers(request, { name: 'backend', connectTimeoutMs: 1_000, responseTimeoutMs: 100 });
        request.once('response', () => resolve('answered'));
        request.once('error', (error: Error & { code?: string }) => resolve(`failed ${error.code ?? error.name}`));
        request.end();
      });
      assert.equal(outcome, 'failed SWITCHYARD_UPSTREAM_TIMEOUT');
    } finally {
      silent.kill('SIGKILL');
    }
  });
});
