import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { handlers } from '../../examples/new-handlers.js';
import { READYZ_PATH } from '../../src/admin/health-probes.js';
import { ENVIRONMENT } from '../../src/cli/environment.js';
import { readServiceOptions } from '../../src/config/env-options.js';
import { compileFlags } from '../../src/config/validate-flags.js';
import { formatConfigIssue } from '../../src/errors/switchyard-error.js';
import { readUnleashEnv } from '../../src/flags/unleash-options.js';

// No Docker engine runs here: the compose file is checked by parsing it and everything it
// points at — mounted files, ports, hosts, tokens, the flags it mounts — not by running it.
interface Service {
  build?: string;
  image?: string;
  ports?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  command?: string | string[];
  healthcheck?: { test: string[] };
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as Compose;
const services = compose.services;
const service = (name: string): Service => {
  const s = services[name];
  assert.ok(s, `service ${name}`);
  return s;
};
/** Compose's `${VAR:-default}` as it resolves with VAR unset. */
const interpolated = (value: string): string => value.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1');
const envOf = (name: string): Record<string, string> => Object.fromEntries(Object.entries(service(name).environment ?? {}).map(([k, v]) => [k, interpolated(String(v))]));
const hostPort = (url: string): string => {
  const u = new URL(url);
  return `${u.hostname}:${u.port}`;
};
const SWITCHYARDS = ['switchyard-1', 'switchyard-2'];

describe('docker-compose.yml', () => {
  it('declares the load balancer, two Switchyard instances, the legacy apps, Redis, Unleash with PostgreSQL and a collector', () => {
    assert.deepEqual(Object.keys(services).sort(), ['django', 'flask', 'lb', 'otel-collector', 'postgres', 'redis', 'switchyard-1', 'switchyard-2', 'unleash']);
    for (const name of SWITCHYARDS) {
      assert.equal(service(name).build, '.');
      assert.equal(service(name).ports, undefined, 'instances are reached through the load balancer only');
    }
    assert.ok(existsSync('Dockerfile'));
    assert.deepEqual(service('lb').ports, ['8080:8080']);
  });

  it('every dependency exists, and waits for health wherever the dependency has a healthcheck', () => {
    for (const [name, s] of Object.entries(services)) {
      // The collector's image has no shell to run a check in; it is the one documented exception.
      if (name !== 'otel-collector') assert.ok(s.healthcheck?.test.length, `${name} has a healthcheck`);
      for (const [dep, { condition }] of Object.entries(s.depends_on ?? {})) {
        assert.ok(services[dep], `${name} depends on ${dep}, which exists`);
        assert.ok(['service_healthy', 'service_started', 'service_completed_successfully'].includes(condition), `${name} → ${dep}: ${condition}`);
        if (services[dep]?.healthcheck) assert.equal(condition, 'service_healthy', `${name} waits for ${dep} to be healthy`);
      }
    }
    for (const name of SWITCHYARDS) assert.deepEqual(Object.keys(service(name).depends_on ?? {}).sort(), ['django', 'flask', 'otel-collector', 'redis', 'unleash']);
    assert.deepEqual(Object.keys(service('lb').depends_on ?? {}).sort(), SWITCHYARDS);
    assert.deepEqual(Object.keys(service('unleash').depends_on ?? {}), ['postgres']);
  });

  it('Switchyard: valid environment, only variables it reads, healthcheck on readyz at its port', () => {
    const known = new Set(['OTEL_EXPORTER_OTLP_PROTOCOL', 'OTEL_RESOURCE_ATTRIBUTES', ...ENVIRONMENT.flatMap((g) => g.variables.map((v) => v.name))]);
    for (const name of SWITCHYARDS) {
      const env = envOf(name);
      for (const key of Object.keys(env)) assert.ok(known.has(key), `${name}: ${key} is a variable Switchyard reads`);
      const options = readServiceOptions(env); // throws a ConfigError naming any bad value
      assert.equal(options.flagsDir, '/flags');
      assert.ok(options.adminToken !== null && options.prometheusMetrics && options.logFormat === 'json');
      const unleash = readUnleashEnv(env);
      assert.deepEqual(unleash.issues, []);
      const check = service(name).healthcheck?.test.join(' ') ?? '';
      assert.ok(check.includes(`http://127.0.0.1:${options.port}${READYZ_PATH}`), check);
    }
    assert.notEqual(envOf('switchyard-1')['UNLEASH_INSTANCE_ID'], envOf('switchyard-2')['UNLEASH_INSTANCE_ID']);
  });

  it('Switchyard reaches the services it names: Redis, Unleash with a token Unleash creates, the collector on a port it receives on', () => {
    const env = envOf('switchyard-1');
    assert.equal(env['REDIS_URL'], 'redis://redis:6379');
    assert.ok(service('redis').healthcheck?.test.includes('ping'));
    assert.equal(hostPort(env['UNLEASH_URL']!), 'unleash:4242');
    assert.ok(service('unleash').ports?.includes('4242:4242'));
    assert.ok(envOf('unleash')['INIT_CLIENT_API_TOKENS']!.split(',').includes(env['UNLEASH_API_TOKEN']!), 'the client token is one Unleash is told to create');
    const [collectorHost, collectorPort] = hostPort(env['OTEL_EXPORTER_OTLP_ENDPOINT']!).split(':');
    assert.equal(collectorHost, 'otel-collector');
    const otel = parse(readFileSync(mountedFile('otel-collector', '/etc/otelcol/config.yaml'), 'utf8')) as { receivers: { otlp: { protocols: Record<string, { endpoint: string }> } } };
    const protocol = env['OTEL_EXPORTER_OTLP_PROTOCOL'] === 'grpc' ? 'grpc' : 'http';
    assert.equal(otel.receivers.otlp.protocols[protocol]?.endpoint.split(':')[1], collectorPort);
  });

  it('mounts files that exist, and the flags it mounts validate together, pointing at the gunicorn services', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const volume of s.volumes ?? []) {
        const [host] = volume.split(':');
        if (host!.startsWith('.')) assert.ok(existsSync(host!), `${name}: ${host} exists`);
        else assert.ok(compose.volumes && host! in compose.volumes, `${name}: named volume ${host} is declared`);
      }
    }
    const mounts = (service('switchyard-1').volumes ?? []).map((v) => v.split(':'));
    const files = mounts.filter(([, target]) => target?.startsWith('/flags/')).map(([host]) => ({ file: host!, text: readFileSync(host!, 'utf8') }));
    assert.equal(files.length, 2);
    const result = compileFlags(files, { handlerNames: new Set(Object.keys(handlers)) });
    assert.ok(result.ok, result.ok ? '' : result.issues.map(formatConfigIssue).join('\n'));
    assert.equal(result.config.settings.trustForwardedHeaders, true, 'behind the nginx that sets X-Forwarded-*');
    for (const [upstream, port] of [['flask', 8001], ['django', 8002]] as const) {
      assert.equal(result.config.upstreams[upstream]?.url, `http://${upstream}:${port}`);
      assert.ok(String(service(upstream).command).includes(`--bind 0.0.0.0:${port}`));
      assert.ok(service(upstream).healthcheck?.test.join(' ').includes(`127.0.0.1:${port}/__health`));
    }
  });

  it('the load balancer config balances both instances on their port and listens where compose publishes', () => {
    const conf = readFileSync(mountedFile('lb', '/etc/nginx/conf.d/default.conf'), 'utf8');
    const port = readServiceOptions(envOf('switchyard-1')).port;
    const servers = [...conf.matchAll(/^\s*server\s+([\w.-]+):(\d+)\b/gm)].map((m) => `${m[1]}:${m[2]}`);
    assert.deepEqual(servers, SWITCHYARDS.map((n) => `${n}:${port}`));
    assert.match(conf, /^\s*listen 8080;/m);
    assert.ok(service('lb').healthcheck?.test.join(' ').includes('/lb-health') && conf.includes('location = /lb-health'));
  });

  it('Unleash uses the PostgreSQL service with its credentials; the collector config wires every pipeline to defined parts', () => {
    const db = new URL(envOf('unleash')['DATABASE_URL']!);
    const pg = envOf('postgres');
    assert.deepEqual([db.hostname, db.username, db.password, db.pathname.slice(1)], ['postgres', pg['POSTGRES_USER'], pg['POSTGRES_PASSWORD'], pg['POSTGRES_DB']]);
    const otel = parse(readFileSync(mountedFile('otel-collector', '/etc/otelcol/config.yaml'), 'utf8')) as Record<string, Record<string, unknown>> & { service: { extensions: string[]; pipelines: Record<string, Record<'receivers' | 'processors' | 'exporters', string[]>> } };
    assert.ok(String(service('otel-collector').command).includes('/etc/otelcol/config.yaml'));
    assert.deepEqual(Object.keys(otel.service.pipelines).sort(), ['metrics', 'traces']);
    for (const [pipeline, parts] of Object.entries(otel.service.pipelines)) {
      for (const kind of ['receivers', 'processors', 'exporters'] as const) {
        assert.ok(parts[kind].length > 0, `${pipeline}.${kind}`);
        for (const part of parts[kind]) assert.ok(otel[kind] && part in otel[kind], `${pipeline}: ${kind} ${part} is defined`);
      }
    }
    for (const ext of otel.service.extensions) assert.ok(otel['extensions'] && ext in otel['extensions']);
  });
});

/** The repo file a service mounts at `target`. */
function mountedFile(name: string, target: string): string {
  const mount = (service(name).volumes ?? []).map((v) => v.split(':')).find(([, t]) => t === target);
  assert.ok(mount?.[0], `${name} mounts ${target}`);
  return mount[0];
}
