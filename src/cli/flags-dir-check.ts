import { readFlagsDir } from '../config/flags-files.js';
import { ConfigError } from '../errors/switchyard-error.js';
import { problemLines, type CommandOutput } from './command-output.js';
import { compileFlags, type CompileResult, type FlagsFileText } from '../config/validate-flags.js';

import { loadHandlersModule } from '../server/load-handlers.js';

/**
 * Stands for "whatever handlers the service will register" when `check`/`routes` run without a
 * handlers module: CI jobs often cannot load the application's code, and every other check of
 * the flags is still worth running. The summary says handler names were not checked.
 */
class AnyHandlerName extends Set<string> {
  override has(): boolean {
    return true;
  }
}

export interface FlagsDirCheck {
  readonly flagsDir: string;
  readonly files: readonly FlagsFileText[];
  readonly result: CompileResult;
  /** False when no handlers module was given: handler names were not checked. */
  readonly handlersChecked: boolean;
}

/** The flags directory and handlers module as the service would pick them (option, then env, then default). */
export function flagsDirOf(options: ReadonlyMap<string, string>, env: NodeJS.ProcessEnv): { flagsDir: string; handlersModule: string | null } {
  const nonEmpty = (v: string | undefined): string | undefined => (v === undefined || v === '' ? undefined : v);
  return {
    flagsDir: options.get('--flags') ?? nonEmpty(env['SWITCHYARD_FLAGS_DIR']) ?? 'flags',
    handlersModule: options.get('--handlers') ?? nonEmpty(env['SWITCHYARD_HANDLERS']) ?? null,
  };
}

/** Reads and compiles a flags directory exactly as start-up does; throws a ConfigError for an unreadable directory or handlers module. */
export async function checkFlagsDir(flagsDir: string, handlersModule: string | null): Promise<FlagsDirCheck> {
  const handlerNames = handlersModule === null ? new AnyHandlerName() : new Set(Object.keys(await loadHandlersModule(handlersModule)));
  const files = await readFlagsDir(flagsDir);
  return { flagsDir, files, result: compileFlags(files, { handlerNames }), handlersChecked: handlersModule !== null };
}


/** `checkFlagsDir` for a command: an unreadable directory or handlers module is already its exit-1 output. */
export async function checkFlagsDirOrReport(flagsDir: string, handlersModule: string | null): Promise<FlagsDirCheck | CommandOutput> {
  try {
    return await checkFlagsDir(flagsDir, handlersModule);
  } catch (error) {
    if (error instanceof ConfigError) return { code: 1, stdout: [], stderr: problemLines(error.issues) };
    throw error;
  }
}
