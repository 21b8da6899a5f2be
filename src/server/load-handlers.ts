import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../errors/switchyard-error.js';
import type { NewHandler } from './switch-middleware.js';

/**
 * Loads the CLI's new handlers from a module exporting `handlers` (or a default export): an
 * object mapping handler names to Express handlers. Errors name the module and the reason.
 */
export async function loadHandlersModule(modulePath: string): Promise<Record<string, NewHandler>> {
  const file = path.resolve(modulePath);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    throw new ConfigError([{ file: modulePath, field: '(handlers module)', reason: `cannot be loaded: ${(error as Error).message}` }]);
  }
  const handlers = mod['handlers'] ?? mod['default'];
  if (typeof handlers !== 'object' || handlers === null) {
    throw new ConfigError([{ file: modulePath, field: 'handlers', reason: 'the module must export `handlers`: an object of name → Express handler' }]);
  }
  const bad = Object.entries(handlers).filter(([, h]) => typeof h !== 'function');
  if (bad.length > 0) throw new ConfigError(bad.map(([name]) => ({ file: modulePath, field: `handlers.${name}`, reason: 'is not a function' })));
  return handlers as Record<string, NewHandler>;
}
