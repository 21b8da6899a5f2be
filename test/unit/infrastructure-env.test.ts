import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readInfrastructureEnv } from '../../src/config/infrastructure-env.js';
import { describePlacement, placeRedis, type RedisPlacementOptions } from '../../src/config/redis-placement.js';
import { ConfigError } from '../../src/errors/switchyard-error.js';
import { parseRedisUrl, type RedisTarget } from '../../src/redis/redis-url.js';
import { runCli } from '../support/cli-process.js';

const target = (url: string): RedisTarget => {
  const parsed = parseRedisUrl(url);
  assert.ok(parsed.ok, url);
  return parsed.target;
};
const reasonOf = (url: string): string => {
  const parsed = parseRedisUrl(url);
  assert.ok(!parsed.ok, `${url} should be refused`);
  return parsed.reason;
};
const issuesOf = (env: NodeJS.ProcessEnv): string[] => {
  try {
    readInfrastructureEnv(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.issues.map((i) => `${i.file}: ${i.field}: ${i.reason}`);
  }
  return [];
};

describe('REDIS_URL: one server, a Sentinel set, a Cluster', () => {
  it('one server, with credentials, database and TLS', () => {
    assert.deepEqual(target('redis://127.0.0.1:6380/2'), { kind: 'standalone', host: '127.0.0.1', port: 6380, db: 2, username: null, password: null, tls: false, display: 'redis://127.0.0.1:6380/2' });
    const t = target('rediss://app:s%40cret@redis.internal');
    assert.equal(t.kind, 'standalone');
    assert.deepEqual([t.username, t.password, t.tls, t.kind === 'standalone' && t.port], ['app', 's@cret', true, 6379]);
    assert.equal(t.display, 'rediss://app:***@redis.internal', 'no password in what is logged');
    assert.equal(target('redis://:pw@[::1]:7000').kind === 'standalone' && target('redis://:pw@[::1]:7000').display, 'redis://:***@[::1]:7000');
  });

  it('a Sentinel set: sentinels (default port 26379), the primary name, database, sentinel credentials', () => {
    const t = target('redis+sentinel://:datapw@10.0.0.1,10.0.0.2:26380/mymaster/3?sentinelPassword=sentpw');
    assert.ok(t.kind === 'sentinel');
    assert.deepEqual(t.sentinels, [{ host: '10.0.0.1', port: 26379 }, { host: '10.0.0.2', port: 26380 }]);
    assert.deepEqual([t.name, t.db, t.password, t.sentinelPassword, t.sentinelUsername], ['mymaster', 3, 'datapw', 'sentpw', null]);
    assert.equal(t.display, 'redis+sentinel://:***@10.0.0.1,10.0.0.2:26380/mymaster/3?sentinelPassword=***');
  });

  it('a Cluster: seed nodes (default port 6379), TLS with rediss+cluster', () => {
    const t = target('rediss+cluster://a:7000,b:7001,c');
    assert.ok(t.kind === 'cluster');
    assert.deepEqual(t.nodes, [{ host: 'a', port: 7000 }, { host: 'b', port: 7001 }, { host: 'c', port: 6379 }]);
    assert.equal(t.tls, true);
  });

  it('refuses what it cannot use, and says why', () => {
    assert.match(reasonOf('http://redis:6379'), /must be one of redis:\/\//);
    assert.match(reasonOf('redis://'), /needs a host/);
    assert.match(reasonOf('redis://a:6379,b:6379'), /several hosts: use redis\+sentinel:\/\/ or redis\+cluster:\/\//);
    assert.match(reasonOf('redis://a:99999'), /port must be 1 to 65535/);
    assert.match(reasonOf('redis://a/x'), /database number/);
    assert.match(reasonOf('redis://a?family=6'), /unknown option `family`/);
    assert.match(reasonOf('redis+sentinel://a:26379'), /needs the primary name/);
    assert.match(reasonOf('redis+sentinel://a/mymaster?password=x'), /unknown option `password` \(known: sentinelUsername, sentinelPassword\)/);
    assert.match(reasonOf('redis+cluster://a:7000/1'), /only database 0/);
    assert.match(reasonOf('redis://a b'), /spaces/);
  });
});

describe('the infrastructure environment, read once', () => {
  it('gives one frozen object: Redis, namespace, backup dir, Unleash, telemetry', () => {
    const env = readInfrastructureEnv({ REDIS_URL: 'redis+cluster://127.0.0.1:7000', SWITCHYARD_FLAGS_NAMESPACE: 'shop', SWITCHYARD_BACKUP_DIR: '/var/lib/sy', UNLEASH_URL: 'http://unleash:4242/api/', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318', OTEL_SDK_DISABLED: 'FALSE' });
    assert.ok(Object.isFrozen(env) && Object.isFrozen(env.redis) && Object.isFrozen(env.telemetry));
    assert.equal(env.redis?.kind, 'cluster');
    assert.equal(env.flagsNamespace, 'shop');
    assert.equal(env.backupDir, '/var/lib/sy');
    assert.equal(env.unleash?.url, 'http://unleash:4242/api/');
    assert.deepEqual(env.telemetry, { disabled: false, exporterConfigured: true, console: false, serviceName: null });
    assert.deepEqual(readInfrastructureEnv({ REDIS_URL: '  ' }).redis, null, 'empty is unset');
  });

  it('names every bad variable with its reason, all at once', () => {
    const issues = issuesOf({ REDIS_URL: 'localhost:6379', SWITCHYARD_FLAGS_NAMESPACE: 'a b', UNLEASH_URL: 'unleash:4242', OTEL_SDK_DISABLED: 'yes', OTEL_EXPORTER_OTLP_ENDPOINT: 'otel:4318', OTEL_TRACES_EXPORTER: 'otlp,kafka', OTEL_EXPORTER_OTLP_PROTOCOL: 'udp' });
    assert.ok(issues.every((i) => i.startsWith('<env>: ')), issues.join('\n'));
    assert.deepEqual(issues.map((i) => i.split(': ')[1]).sort(), ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_PROTOCOL', 'OTEL_SDK_DISABLED', 'OTEL_TRACES_EXPORTER', 'REDIS_URL', 'SWITCHYARD_FLAGS_NAMESPACE', 'UNLEASH_URL']);
    assert.match(issuesOf({ REDIS_URL: 'redis+sentinel://s1:26379' })[0] ?? '', /<env>: REDIS_URL: needs the primary name/);
    assert.match(issuesOf({ OTEL_TRACES_EXPORTER: 'otlp,kafka' })[0] ?? '', /unknown: kafka/);
  });

  it('the CLI exits 1 at start-up with the variable and the reason', async () => {
    const run = await runCli(['--port', '0'], { REDIS_URL: 'redis+cluster://127.0.0.1:7000/2', SWITCHYARD_LOG_FORMAT: 'text' }).done;
    assert.equal(run.code, 1);
    assert.match(run.stderr, /cannot start: .*\n?.*<env>: REDIS_URL: a Redis Cluster has only database 0/);
  });
});

describe('where each kind of state lives (createSwitchyard options over REDIS_URL)', () => {
  const ENV = target('redis://env-redis:6379');
  const where = (options: RedisPlacementOptions, env: RedisTarget | null = ENV) => {
    const p = placeRedis(options, env);
    return Object.fromEntries(Object.entries(p.targets).map(([f, t]) => [f, t === null ? null : t.display]));
  };
  const all = (v: string | null) => ({ cache: v, shadow: v, outcomes: v, runtimeFlags: v });

  it('no Redis option: everything follows REDIS_URL (or nothing without it)', () => {
    assert.deepEqual(where({}), all('redis://env-redis:6379'));
    assert.deepEqual(where({}, null), all(null));
  });

  it('`cache: { redisUrl: null }` means no Redis anywhere: the shadow store, outcomes and runtime flags do not stay on REDIS_URL', () => {
    assert.deepEqual(where({ cache: { redisUrl: null } }), all(null));
    assert.equal(placeRedis({ cache: { redisUrl: null } }, ENV).from, 'options');
  });

  it('`redis` is the Redis of every feature; a feature\'s own redisUrl overrides it', () => {
    assert.deepEqual(where({ redis: 'redis+sentinel://s1,s2/main' }), all('redis+sentinel://s1,s2/main'));
    assert.deepEqual(where({ redis: 'redis://shared:6379', cache: { redisUrl: null }, outcomes: { redisUrl: 'redis://metrics:6379' } }), { cache: null, shadow: 'redis://shared:6379', outcomes: 'redis://metrics:6379', runtimeFlags: 'redis://shared:6379' });
    assert.deepEqual(where({ redis: null }), all(null));
    assert.deepEqual(where({ runtimeFlags: { redisUrl: 'redis://flags:6379' } }), { cache: null, shadow: null, outcomes: null, runtimeFlags: 'redis://flags:6379' });
  });

  it('a bad option URL is a ConfigError naming the option', () => {
    assert.throws(() => placeRedis({ redis: 'nope', shadow: { redisUrl: 'redis://a,b' } }, null), (e: unknown) => e instanceof ConfigError && e.issues.map((i) => i.field).join(',') === 'redis,shadow.redisUrl' && e.issues.every((i) => i.file === '<options>'));
  });

  it('the start-up line says where each lives, without passwords', () => {
    const line = describePlacement(placeRedis({ redis: 'redis://:hunter2@shared:6379', cache: { redisUrl: null } }, ENV), new Set(['outcomes']));
    assert.equal(line, 'shared state (from options): response cache in this process; shadow results in Redis redis://:***@shared:6379; outcomes in the store given in the options; runtime flag changes in Redis redis://:***@shared:6379');
  });
});
