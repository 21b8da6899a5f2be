/**
 * nginx (Debian's) as the benchmark's reference proxy, in front of the same gunicorn: shared by
 * bench/run.ts and bench/interleaved.ts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childPids, freePort } from '../test/support/legacy-apps.js';
import type { Target } from './bench-processes.js';

/** A scenario that cannot run on this machine (a missing optional tool): reported, not fatal. */
export class ScenarioSkipped extends Error {}

/**
 * nginx in front of the same gunicorn, one worker, with or without proxy_cache.
 * `forwarded`: the /flask prefix stripped and the X-Forwarded-* headers Flask's ProxyFix reads set,
 * as nginx is configured in front of a Flask app (and as Switchyard and the bare proxy + headers
 * row send them): the backend then does the same work per request behind both.
 */
export async function startNginx(flaskUrl: string, options: { cache?: boolean; keepAlive?: boolean; forwarded?: boolean } = {}): Promise<Target> {
  const { cache = false, keepAlive = false, forwarded = false } = options;
  if (!existsSync('/usr/sbin/nginx')) throw new ScenarioSkipped('nginx is not installed (Debian: apt-get install -y nginx)');
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-bench-nginx-'));
  const port = await freePort();
  const conf = `
worker_processes 1;
${process.getuid?.() === 0 ? 'user root;' : ''}
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  proxy_cache_path ${dir}/cache keys_zone=bench:10m;
  upstream legacy { server ${new URL(flaskUrl).host};${keepAlive ? ' keepalive 16;' : ''} }
  server {
    listen 127.0.0.1:${port};
    location / { proxy_pass http://legacy;${cache ? ' proxy_cache bench;' : ''} proxy_http_version 1.1;${keepAlive ? ' proxy_set_header Connection "";' : ''} }
    location /flask/ {
      proxy_pass http://legacy/; proxy_http_version 1.1;${keepAlive ? ' proxy_set_header Connection "";' : ''}
      ${forwarded ? 'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for; proxy_set_header X-Forwarded-Proto $scheme; proxy_set_header X-Forwarded-Host $http_host; proxy_set_header X-Forwarded-Prefix /flask;' : ''}
    }
  }
}`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  // nginx runs as its own daemon, stopped with `nginx -s quit`: as a foreground child its exit
  // was never reported to Node here (the event loop drained mid-run), so it is not one.
  const nginxArgs = ['-p', dir, '-c', join(dir, 'nginx.conf')];
  const started = spawnSync('/usr/sbin/nginx', nginxArgs, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (started.status !== 0) throw new Error(`nginx did not start: ${started.stderr}`);
  const stopNginx = (): void => void spawnSync('/usr/sbin/nginx', [...nginxArgs, '-s', 'quit'], { stdio: 'ignore' });
  process.once('exit', stopNginx);
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await fetch(`http://127.0.0.1:${port}/__health`);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`nginx did not answer (see ${dir}/error.log)`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  // The one worker serves every request (the master only supervises): its CPU time is nginx's.
  const master = Number(readFileSync(join(dir, 'nginx.pid'), 'utf8').trim());
  const [worker] = Number.isInteger(master) ? childPids(master) : [];
  return {
    url: `http://127.0.0.1:${port}`,
    ...(worker === undefined ? {} : { pid: worker }),
    stop: async () => {
      stopNginx();
      process.removeListener('exit', stopNginx);
      await new Promise((r) => setTimeout(r, 200));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
