/**
 * The "new" side of the chaos runs: a small HTTP service in its own process (so a Switchyard
 * SIGKILL does not take its records with it). It answers `{"side":"new"}` and remembers the
 * X-Chaos-Id of every request it received — served calls and shadow calls (X-Switchyard-Shadow)
 * apart — so a run can tell which side each request reached.
 *
 *   tsx bench/chaos/new-service.ts PORT        → prints READY when listening
 *   POST /__mode?shadow=ok|hang|garbage        shadow calls answered, never answered, or broken
 *   GET  /__seen?from=N                        {"served":[ids],"shadow":[ids]} with id ≥ N
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';

type ShadowMode = 'ok' | 'hang' | 'garbage';
const SHADOW_MODES: readonly ShadowMode[] = ['ok', 'hang', 'garbage'];

const served: number[] = [];
const shadowed: number[] = [];
let shadowMode: ShadowMode = 'ok';
let garbageTurn = 0;

function control(req: IncomingMessage, res: ServerResponse, url: URL): void {
  if (url.pathname === '/__mode' && req.method === 'POST') {
    const mode = url.searchParams.get('shadow') as ShadowMode;
    if (!SHADOW_MODES.includes(mode)) return json(res, 400, { error: `shadow must be one of ${SHADOW_MODES.join(', ')}` });
    shadowMode = mode;
    return json(res, 200, { shadow: mode });
  }
  if (url.pathname === '/__seen') {
    const from = Number(url.searchParams.get('from') ?? 0);
    return json(res, 200, { served: served.filter((id) => id >= from), shadow: shadowed.filter((id) => id >= from) });
  }
  json(res, 404, { error: 'no such control endpoint' });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Broken answers, in turn: bytes that are not HTTP, and a body cut short of its Content-Length. */
function garbage(res: ServerResponse): void {
  const socket = res.socket;
  if (socket === null) return;
  const turn = garbageTurn++ % 2;
  if (turn === 0) socket.end('\u0000\u00ffNOT HTTP AT ALL\r\n\r\n');
  else {
    socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{"side":"ne');
    socket.destroy();
  }
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://new-service');
  if (url.pathname.startsWith('/__')) return control(req, res, url);
  const id = Number(req.headers['x-chaos-id'] ?? -1);
  const shadow = req.headers['x-switchyard-shadow'] !== undefined;
  (shadow ? shadowed : served).push(id);
  req.resume();
  if (shadow && shadowMode === 'hang') return; // never answered: Switchyard's shadow timeout must end it
  if (shadow && shadowMode === 'garbage') return garbage(res);
  // The autopilot's route: the same answer as Flask's /status/200, so its gates pass.
  if (url.pathname === '/status/200') return json(res, 200, { status: 200 });
  json(res, 200, { side: 'new', path: url.pathname });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => process.stdout.write('READY\n'));
process.on('SIGTERM', () => process.exit(0));
