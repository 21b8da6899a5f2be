import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { compileFlags } from '../../src/config/validate-flags.js';
import { formatConfigIssue } from '../../src/errors/switchyard-error.js';
import { handlers } from '../../examples/new-handlers.js';

// No Docker engine runs here: the compose file is checked by parsing it, not by running it.
interface Service {
  build?: string;
  image?: string;
  ports?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  command?: string;
  healthcheck?: { test: string[] };
}

describe('docker-compose.yml', () => {
  const compose = parse(readFileSync('docker-compose.yml', 'utf8')) as { services: Record<string, Service> };

  it('declares Switchyard and both legacy apps, with Switchyard waiting for healthy backends', () => {
    assert.deepEqual(Object.keys(compose.services).sort(), ['django', 'flask', 'redis', 'switchyard']);
    const sy = compose.services['switchyard']!;
    assert.equal(sy.build, '.');
    assert.ok(existsSync('Dockerfile'));
    assert.deepEqual(sy.ports, ['8080:8080']);
    assert.equal(sy.depends_on?.['flask']?.condition, 'service_healthy');
    assert.equal(sy.depends_on?.['django']?.condition, 'service_healthy');
    assert.equal(sy.depends_on?.['redis']?.condition, 'service_healthy');
    // REDIS_URL points at the compose service, as Switchyard expects a redis:// URL.
    assert.equal(sy.environment?.['REDIS_URL'], 'redis://redis:6379');
    for (const name of ['flask', 'django']) assert.ok(compose.services[name]?.healthcheck?.test.join(' ').includes('/__health'), name);
  });

  it('mounts files that exist, and the flags it mounts validate together', () => {
    const sy = compose.services['switchyard']!;
    const mounts = (sy.volumes ?? []).map((v) => v.split(':'));
    for (const [host] of mounts) assert.ok(host && existsSync(host), `${host} exists`);
    assert.equal(sy.environment?.['SWITCHYARD_FLAGS_DIR'], '/flags');
    const files = mounts.filter(([, target]) => target?.startsWith('/flags/')).map(([host]) => ({ file: host!, text: readFileSync(host!, 'utf8') }));
    assert.equal(files.length, 2);
    const result = compileFlags(files, { handlerNames: new Set(Object.keys(handlers)) });
    assert.ok(result.ok, result.ok ? '' : result.issues.map(formatConfigIssue).join('\n'));
    // Upstreams point at the compose services, and the ports match the gunicorn commands.
    assert.equal(result.config.upstreams['flask']?.url, 'http://flask:8001');
    assert.ok(compose.services['flask']?.command?.includes('--bind 0.0.0.0:8001'));
    assert.equal(result.config.upstreams['django']?.url, 'http://django:8002');
    assert.ok(compose.services['django']?.command?.includes('--bind 0.0.0.0:8002'));
  });

  it('mounts the example apps that exist in the repo', () => {
    for (const name of ['flask', 'django']) {
      const [host] = (compose.services[name]?.volumes?.[0] ?? '').split(':');
      assert.ok(host && existsSync(host), `${name}: ${host}`);
    }
  });
});
