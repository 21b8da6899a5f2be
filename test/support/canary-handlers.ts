import type { Request, Response } from 'express';

/** New handlers for the autopilot's two-process test (loaded by the CLI with --handlers): Flask's GET /users/<id>, ported correctly. */
export const handlers = {
  user: (req: Request, res: Response) => void res.json({ id: Number(req.params['id']), name: `user-${String(req.params['id'])}`, source: 'flask' }),
};
