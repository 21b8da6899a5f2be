#!/usr/bin/env node
// A real Unleash server for Switchyard's integration tests, run as a child process by
// test/support/unleash-server.ts. Test-only: it lives in its own package (this folder) so
// unleash-server never enters Switchyard's production dependency tree.
//
//   node server.cjs start  '<json options>'   create the database, start Unleash, print
//                                             `UNLEASH_READY <port>` on stdout, run until killed
//   node server.cjs dropdb <name>             drop a test database (and its open connections)
//   node server.cjs prune  <prefix>           drop leftover databases of test processes that died
//
// PostgreSQL: PGHOST/PGPORT/PGUSER/PGPASSWORD (default 127.0.0.1:5432, user postgres, trust auth).
'use strict';

const { Client } = require('pg');

const pgConfig = (database) => ({
  host: process.env.PGHOST || '127.0.0.1',
  port: Number(process.env.PGPORT || 5432),
  user: process.env.PGUSER || 'postgres',
  password: process.env.PGPASSWORD || undefined,
  database,
});

const quoteIdent = (name) => {
  if (!/^[a-z0-9_]{1,63}$/.test(name)) throw new Error(`refusing database name ${JSON.stringify(name)}`);
  return `"${name}"`;
};

async function withAdmin(fn) {
  const client = new Client(pgConfig('postgres'));
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function createDb(name) {
  await withAdmin((c) => c.query(`CREATE DATABASE ${quoteIdent(name)}`));
}

async function dropDb(name) {
  await withAdmin(async (c) => {
    await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
    await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)}`);
  });
}

/** Databases are named `<prefix><pid>_<time>`; drop those whose test process is gone. */
async function prune(prefix) {
  const rows = await withAdmin((c) => c.query('SELECT datname FROM pg_database WHERE datname LIKE $1', [`${prefix}%`]));
  for (const { datname } of rows.rows) {
    const pid = Number(datname.slice(prefix.length).split('_')[0]);
    let alive = false;
    try {
      process.kill(pid, 0);
      alive = true;
    } catch {
      alive = false;
    }
    if (!alive) await dropDb(datname);
  }
}

async function start(options) {
  const { database, port, adminToken, clientTokens, logLevel, reuseDatabase } = options;
  // A restart (chaos runs) keeps the database: flags, strategies and tokens survive, as in production.
  if (!reuseDatabase) await createDb(database);
  const unleash = require('unleash-server');
  const instance = await unleash.start({
    db: { ...pgConfig(database), ssl: false, schema: 'public', pool: { min: 0, max: 4 } },
    server: { port, host: '127.0.0.1', gracefulShutdownEnable: false, enableRequestLogger: false },
    authentication: {
      type: 'open-source',
      enableApiToken: true,
      createAdminUser: false,
      initApiTokens: [
        { secret: adminToken, type: 'admin', project: '*', environment: '*', tokenName: 'switchyard-tests-admin' },
        ...clientTokens.map((t) => ({ secret: t.secret, type: 'client', project: '*', environment: t.environment, tokenName: `switchyard-tests-client-${t.environment}` })),
      ],
    },
    // The features a client fetches are served from the database on every poll, so a change is
    // visible on the next refresh (the tests time Switchyard, not the server's cache).
    clientFeatureCaching: { enabled: false },
    versionCheck: { enable: false },
    telemetry: false,
    logLevel: logLevel || 'warn',
  });
  process.stdout.write(`UNLEASH_READY ${port}\n`);
  const stop = () => {
    Promise.resolve(instance.stop())
      .catch(() => {})
      .finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

async function main() {
  const [command, arg] = process.argv.slice(2);
  if (command === 'start') return start(JSON.parse(arg));
  if (command === 'dropdb') return dropDb(arg);
  if (command === 'prune') return prune(arg);
  throw new Error(`usage: server.cjs start <json> | dropdb <name> | prune <prefix> (got ${command})`);
}

main().catch((error) => {
  process.stderr.write(`unleash test server: ${error && error.stack ? error.stack : String(error)}\n`);
  process.exit(1);
});
