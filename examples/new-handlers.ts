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

  /** Brand-new endpoint with no legacy counterpart. */
  health: (_req, res) => {
    res.json({ status: 'ok', uptimeSeconds: Math.round(process.uptime()) });
  },
};

export default handlers;
