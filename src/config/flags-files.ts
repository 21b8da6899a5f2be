import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../errors/switchyard-error.js';
import type { FlagsFileText } from './validate-flags.js';

const FLAGS_FILE = /\.ya?ml$/;

/**
 * Reads every `*.yaml`/`*.yml` directly in `dir`, in name order. Each file is named under `dir`
 * as the operator gave it (`flags/routes.yaml`, `/etc/switchyard/routes.yaml`): a path made
 * relative to the working directory (`../../etc/…`) would send them looking in the wrong place.
 */
export async function readFlagsDir(dir: string): Promise<FlagsFileText[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => FLAGS_FILE.test(n)).sort();
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'directory does not exist' : `cannot be read: ${(error as Error).message}`;
    throw new ConfigError([{ file: dir, field: '(flags directory)', reason }]);
  }
  if (names.length === 0) throw new ConfigError([{ file: dir, field: '(flags directory)', reason: 'contains no .yaml or .yml files' }]);
  return Promise.all(
    names.map(async (name) => {
      const file = path.join(dir, name);
      return { file, text: await readFile(file, 'utf8') };
    }),
  );
}

