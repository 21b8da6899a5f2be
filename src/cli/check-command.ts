import { plural, problemLines, warningLines, type CommandOutput } from './command-output.js';
import { checkFlagsDirOrReport, flagsDirOf } from './flags-dir-check.js';

/**
 * `switchyard check`: the start-up validation without starting. Valid → exit 0 and one line on
 * stdout (warnings go to stderr, so scripts can read the summary alone); invalid → exit 1 with
 * every problem as file:line: field: reason.
 */
export async function runCheck(options: ReadonlyMap<string, string>, env: NodeJS.ProcessEnv): Promise<CommandOutput> {
  const { flagsDir, handlersModule } = flagsDirOf(options, env);
  const check = await checkFlagsDirOrReport(flagsDir, handlersModule);
  if ('code' in check) return check;
  const { result, files } = check;
  if (!result.ok) return { code: 1, stdout: [], stderr: [...warningLines(result.warnings), ...problemLines(result.issues)] };
  const { config } = result;
  const handlers = check.handlersChecked ? '' : ' (handler names not checked: pass --handlers MODULE)';
  const summary =
    `${flagsDir}: valid — ${plural(files.length, 'file')}, ${plural(Object.keys(config.upstreams).length, 'upstream')}, ` +
    `${plural(config.routes.length, 'route')}, ${plural(result.warnings.length, 'warning')}, version ${config.version}${handlers}`;
  return { code: 0, stdout: [summary], stderr: warningLines(result.warnings) };
}
