import type { NewHandler } from '../src/index.js';

/**
 * New TypeScript handlers that re-implement part of the legacy Flask app
 * (examples/legacy-flask/app.py). Routes in flags/ name them under `new.handler`.
 */
export const handlers: Record<string, NewHandler> = {
  /** Flask: GET /hello → {"message": "Hello from Flask!"}; the port keeps the contract. */
  hello: (_req, res) => {
    res.json({ message: 'Hello from Flask!' });
  },

  /** Flask: GET /users/<int:id>; ids above 1000 do not exist. */
  user: (req, res) => {
    const id = Number(req.params['id']);
    if (!Number.isInteger(id) || id < 0) {
      res.status(404).json({ error: 'not found' });
      return;
    }
    if (id > 1000) {
      res.status(404).json({ error: 'not found' });
      return;
    }
    res.json({ id, name: `user-${id}`, source: 'switchyard' });
  },

  /**
   * Flask: GET /catalog, ported — with one real bug for the shadow diff to find: the price is
   * rounded differently (9.99, legacy says 10.0). The timestamps differ on every call on both
   * sides; the noise cancelling tells them apart from the price.
   */
  catalog: (_req, res) => {
    const now = Date.now() / 1000;
    res.json({
      items: [
        { id: 1, name: 'anvil', updated_at: now },
        { id: 2, name: 'rope', updated_at: now },
      ],
      tags: ['tools', 'outdoor', 'sale'],
      price: 9.99,
      total: 2,
      generated_at: now,
    });
  },

  /**
   * Flask: GET /slow?ms=N sleeps N ms (0–120000) and answers {"slept_ms": N}; a bad ms is a 400
   * {"error", "status"}. The demo's autopilot route: a faithful port, so the run goes on by itself.
   */
  slow: async (req, res) => {
    const raw = req.query['ms'];
    const text = typeof raw === 'string' ? raw : '';
    const ms = text === '' ? 0 : /^-?\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!Number.isInteger(ms) || ms < 0 || ms > 120_000) {
      res.status(400).json({ error: 'ms must be an integer between 0 and 120000', status: 400 });
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, ms));
    res.json({ slept_ms: ms });
  },

  /** Brand-new endpoint with no legacy counterpart. */
  health: (_req, res) => {
    res.json({ status: 'ok', uptimeSeconds: Math.round(process.uptime()) });
  },
};

export default handlers;
