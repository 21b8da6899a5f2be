/**
 * Private multi-node Redis deployments for tests, on free ports in a temp dir, stopped by the
 * test: a Sentinel set (a primary, a replica, three sentinels) and a three-primary Redis Cluster.
 * Needs Debian's redis-server and redis-sentinel (`apt-get install redis-server redis-sentinel`).
 *
 *   const set = await startSentinelSet();   // set.url: redis+sentinel://…/main
 *   await set.killPrimary();                 // SIGKILL, then wait until a replica is promoted
 *   const cluster = await startCluster();    // cluster.url: redis+cluster://…
 */
import { execFile, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { freePort } from './legacy-apps.js';
import { findRedisServer, send, spawnRedisProcess, stopRedisProcess } from './redis-server.js';

const run = promisify(execFile);
const PRIMARY_NAME = 'main';

function findBinary(envName: string, candidates: readonly string[], hint: string): string {
  const chosen = process.env[envName];
  for (const candidate of chosen ? [chosen] : candidates) {
    if (candidate.includes('/') ? existsSync(candidate) : spawnSync(candidate, ['--version'], { stdio: 'ignore' }).status === 0) return candidate;
  }
  throw new Error(`${candidates.join(' or ')} not found: the Sentinel and Cluster tests run private ones. Install with: ${hint}`);
}

const findSentinel = (): string => findBinary('SWITCHYARD_REDIS_SENTINEL', ['/usr/bin/redis-sentinel', 'redis-sentinel'], 'apt-get install -y redis-sentinel');
const findRedisCli = (): string => findBinary('SWITCHYARD_REDIS_CLI', ['/usr/bin/redis-cli', 'redis-cli'], 'apt-get install -y redis-tools');

/** Polls until `check` answers true; throws `what` after `timeoutMs`. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    await delay(50);
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`);
}

const serverArgs = (port: number, dir: string, extra: readonly string[] = []): string[] => ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'warning', ...extra];

export interface SentinelSet {
  /** redis+sentinel://127.0.0.1:s1,127.0.0.1:s2,127.0.0.1:s3/main */
  readonly url: string;
  /** The port of the node that is primary now (as the sentinels say). */
  primaryPort(): Promise<number>;
  /** SIGKILL the primary and wait until the sentinels have promoted the replica. Returns the new primary's port. */
  killPrimary(): Promise<number>;
  /** `SENTINEL FAILOVER`: the primary is demoted, the replica promoted; waits until the replica follows the new primary. Returns its port. */
  failover(): Promise<number>;
  /** One command to a data node or sentinel by port. */
  command(port: number, ...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

/**
 * A primary, one replica and three sentinels (quorum 2, down after 1 s), ready when the replica
 * is in sync and every sentinel knows the replica and the other two — so a failover can run.
 */
export async function startSentinelSet(): Promise<SentinelSet> {
  const server = findRedisServer();
  const sentinel = findSentinel();
  const dir = await mkdtemp(path.join(tmpdir(), 'switchyard-sentinel-'));
  const nodes = new Map<number, ChildProcess>();
  const sentinels = new Map<number, ChildProcess>();
  const stopAll = async (): Promise<void> => {
    await Promise.all([...nodes.values(), ...sentinels.values()].map((p) => stopRedisProcess(p, 'SIGKILL')));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const primary = await freePort();
    nodes.set(primary, await spawnRedisProcess(server, serverArgs(primary, dir, ['--dbfilename', `dump-${primary}.rdb`]), primary));
    const replica = await freePort();
    nodes.set(replica, await spawnRedisProcess(server, serverArgs(replica, dir, ['--dbfilename', `dump-${replica}.rdb`, '--replicaof', '127.0.0.1', String(primary)]), replica));
    await until('the replica in sync', async () => (await send(replica, ['INFO', 'replication'])).includes('master_link_status:up'));
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const conf = path.join(dir, `sentinel-${port}.conf`);
      await writeFile(
        conf,
        [`port ${port}`, 'bind 127.0.0.1', `dir ${dir}`, `sentinel monitor ${PRIMARY_NAME} 127.0.0.1 ${primary} 2`, `sentinel down-after-milliseconds ${PRIMARY_NAME} 1000`, `sentinel failover-timeout ${PRIMARY_NAME} 10000`, `sentinel parallel-syncs ${PRIMARY_NAME} 1`, ''].join('\n'),
      );
      sentinels.set(port, await spawnRedisProcess(sentinel, [conf], port));
    }
    for (const port of sentinels.keys()) {
      await until(`sentinel ${port} knows the replica and the other sentinels`, async () => {
        const master = await send(port, ['SENTINEL', 'master', PRIMARY_NAME]);
        return /num-slaves\r\n:1\r\n|num-slaves\r\n\$1\r\n1\r\n/.test(master) && /num-other-sentinels\r\n(:2|\$1\r\n2)\r\n/.test(master);
      });
    }
  } catch (error) {
    await stopAll();
    throw error;
  }
  const sentinelPorts = [...sentinels.keys()];
  const primaryPort = async (): Promise<number> => {
    const reply = await send(sentinelPorts[0]!, ['SENTINEL', 'get-master-addr-by-name', PRIMARY_NAME]);
    const port = /\r\n(\d+)\r\n$/.exec(reply)?.[1];
    if (port === undefined) throw new Error(`no primary: ${reply}`);
    return Number(port);
  };
  const promotedFrom = async (old: number): Promise<number> => {
    let now = old;
    await until('a replica promoted', async () => {
      now = await primaryPort();
      return now !== old && (await send(now, ['ROLE'])).includes('master');
    });
    return now;
  };
  return {
    url: `redis+sentinel://${sentinelPorts.map((p) => `127.0.0.1:${p}`).join(',')}/${PRIMARY_NAME}`,
    primaryPort,
    killPrimary: async () => {
      const old = await primaryPort();
      await stopRedisProcess(nodes.get(old) ?? null, 'SIGKILL');
      nodes.delete(old);
      return promotedFrom(old);
    },
    failover: async () => {
      const old = await primaryPort();
      const reply = await send(sentinelPorts[0]!, ['SENTINEL', 'FAILOVER', PRIMARY_NAME]);
      if (!reply.startsWith('+OK')) throw new Error(`SENTINEL FAILOVER: ${reply}`);
      const now = await promotedFrom(old);
      // The demoted node follows the new primary before the next failover can use it.
      await until('the demoted node in sync with the new primary', async () => (await send(old, ['INFO', 'replication'])).includes('master_link_status:up'));
      for (const port of sentinelPorts) await until(`sentinel ${port} sees the replica`, async () => /num-slaves\r\n(:1|\$1\r\n1)\r\n/.test(await send(port, ['SENTINEL', 'master', PRIMARY_NAME])));
      return now;
    },
    command: (port, ...args) => send(port, args),
    stop: stopAll,
  };
}

export interface ClusterSet {
  /** redis+cluster://127.0.0.1:a,127.0.0.1:b,127.0.0.1:c */
  readonly url: string;
  readonly ports: readonly number[];
  command(port: number, ...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

/** Three primaries sharing the 16384 slots (no replicas), ready when every node says cluster_state:ok. */
export async function startCluster(): Promise<ClusterSet> {
  const server = findRedisServer();
  const cli = findRedisCli();
  const dir = await mkdtemp(path.join(tmpdir(), 'switchyard-cluster-'));
  const procs: ChildProcess[] = [];
  const ports: number[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.all(procs.map((p) => stopRedisProcess(p, 'SIGKILL')));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      ports.push(port);
      procs.push(await spawnRedisProcess(server, serverArgs(port, dir, ['--cluster-enabled', 'yes', '--cluster-config-file', path.join(dir, `nodes-${port}.conf`), '--cluster-node-timeout', '2000', '--dbfilename', `dump-${port}.rdb`]), port));
    }
    await run(cli, ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { timeout: 30_000 });
    for (const port of ports) await until(`cluster node ${port} ok`, async () => (await send(port, ['CLUSTER', 'INFO'])).includes('cluster_state:ok'));
  } catch (error) {
    await stopAll();
    throw error;
  }
  return { url: `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`, ports, command: (port, ...args) => send(port, args), stop: stopAll };
}
