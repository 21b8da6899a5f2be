import type { NewHandler } from '../../src/server/switch-middleware.js';

/**
 * The shadow ignore-rule tests' route: Flask's catalog mirrored to a new handler that answers the
 * same with its own timestamps, so only /generated_at and /items/*\/updated_at differ (the latter
 * ignored in flags/ already). Shared by the Redis and the file-store tests.
 */
export const quietCatalogHandlers: Record<string, NewHandler> = {
  quiet: (_req, res) => {
    const now = Date.now() / 1000;
    res.json({ items: [{ id: 1, name: 'anvil', updated_at: now }, { id: 2, name: 'rope', updated_at: now }], tags: ['tools', 'outdoor', 'sale'], price: 10.0, total: 2, generated_at: now });
  },
};

/** The flags YAML: `settings` (YAML lines, or '') then the quiet route at /catalog and `extraRoutes`. */
export function quietCatalogFlags(flaskUrl: string, settings = '', extraRoutes = ''): string {
  return `
upstreams:
  flask: { url: "${flaskUrl}" }
${settings}
routes:
  - name: quiet
    path: /catalog
    methods: [GET]
    legacy: { upstream: flask }
    new: { handler: quiet }
    mode: legacy
    shadow: { percentage: 100, noisePercentage: 100, ignore: [/items/*/updated_at] }
${extraRoutes}`;
}
