import { watch, type FSWatcher } from 'node:fs';
import type { Logger } from '../logging/logger.js';
import { SWITCHYARD_STATE_DIR } from './defaults.js';

/**
 * Calls `onChange` once a burst of changes to the flags directory has settled. Every event
 * counts — editors that save through a temp file, and Kubernetes ConfigMaps that swap a `..data`
 * symlink, never touch a `*.yaml` name — and a reload that finds the same content is a no-op.
 * A slow poll backs the watcher up: fs.watch dies silently when the directory itself is replaced.
 * The one exception is Switchyard's own dot-directory (the ignore-rules file): its writes are not
 * flag edits (and the flags loader reads only `*.yaml`/`*.yml` directly in `dir` anyway).
 */
export function watchFlagsDir(dir: string, onChange: () => void, logger: Logger, debounceMs = 100, pollMs = 2_000): () => void {
  let timer: NodeJS.Timeout | undefined;
  const schedule = (): void => {
    clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
  };
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dir, { persistent: false }, (_event, name) => {
      if (name !== SWITCHYARD_STATE_DIR) schedule();
    });
    watcher.on('error', (error) => logger.warn(`watching ${dir} failed; falling back to polling every ${pollMs} ms`, { cause: error.message }));
  } catch (error) {
    logger.warn(`cannot watch ${dir}; polling every ${pollMs} ms instead (SIGHUP also reloads)`, { cause: (error as Error).message });
  }
  const poll = setInterval(onChange, pollMs);
  poll.unref();
  return () => {
    clearTimeout(timer);
    clearInterval(poll);
    watcher?.close();
  };
}
