import { plural, problemLines, warningLines, type CommandOutput } from './command-output.js';
import { checkFlagsDirOrReport, flagsDirOf } from './flags-dir-check.js';
import { formatRows, rowsOfInvalid, rowsOfTable } from './route-rows.js';

/**
 * `switchyard routes`: the route table in the order requests are matched (most specific first,
 * whatever the order in the files), then its warnings. With conflicts or other problems the
 * configuration has no table: the routes that can be read are listed in the order they would
 * take, those with problems marked, the problems below, and the exit code is 1.
 */
export async function runRoutes(options: ReadonlyMap<string, string>, env: NodeJS.ProcessEnv): Promise<CommandOutput> {
  const { flagsDir, handlersModule } = flagsDirOf(options, env);
  const check = await checkFlagsDirOrReport(flagsDir, handlersModule);
  if ('code' in check) return check;
  const { result, files } = check;
  if (!result.ok) {
    const rows = rowsOfInvalid(files, result.issues);
    const listing = rows.length === 0 ? [] : [`Routes of ${flagsDir} that could be read, in the order they would be matched (✗: has a problem below):`, ...formatRows(rows), ''];
    return { code: 1, stdout: listing, stderr: [...warningLines(result.warnings), ...problemLines(result.issues)] };
  }
  const { config, table, warnings } = result;
  const upstreams = Object.values(config.upstreams).map((u) => `${u.name} ${u.url}`);
  return {
    code: 0,
    stdout: [
      `Routes of ${flagsDir} (version ${config.version}) in match order: a request takes the first that matches.`,
      ...formatRows(rowsOfTable(config, table)),
      '',
      `Upstreams: ${upstreams.length > 0 ? upstreams.join(', ') : 'none'}`,
      warnings.length === 0 ? 'No conflicts, no warnings.' : `No conflicts; ${plural(warnings.length, 'warning')}:`,
      ...warnings.map((w) => `  - ${w}`),
    ],
    stderr: check.handlersChecked ? [] : ['switchyard: handler names not checked (pass --handlers MODULE)'],
  };
}
