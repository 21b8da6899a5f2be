/**
 * The command line's grammar, before any value is interpreted: which command, and which options
 * it was given. Pure. Values are checked later, with the environment (config/env-options.ts),
 * so `--port abc` is a configuration error (exit 1) while `--colour` is a usage error (exit 2).
 */
export type CommandName = 'serve' | 'check' | 'routes';

export type ParsedCommandLine =
  | { readonly kind: 'run'; readonly command: CommandName; readonly options: ReadonlyMap<string, string>; readonly argv: readonly string[] }
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  | { readonly kind: 'usage-error'; readonly message: string };

/** Options each command takes, all with a value. */
export const COMMAND_OPTIONS: Readonly<Record<CommandName, readonly string[]>> = {
  serve: ['--flags', '--port', '--host', '--handlers', '--log-level'],
  check: ['--flags', '--handlers'],
  routes: ['--flags', '--handlers'],
};

const HELP = new Set(['--help', '-h', 'help']);
const VERSION = new Set(['--version', '-V', 'version']);

export function parseCommandLine(argv: readonly string[]): ParsedCommandLine {
  // Asking for help always works, whatever else is on the line (that is usually why it is asked).
  if (argv.some((arg) => HELP.has(arg))) return { kind: 'help' };
  if (argv.some((arg) => VERSION.has(arg))) return { kind: 'version' };
  const first = argv[0];
  const named = first !== undefined && !first.startsWith('-');
  const command = named ? first : 'serve';
  if (!isCommand(command)) return { kind: 'usage-error', message: `unknown command \`${command}\`` };
  const rest = named ? argv.slice(1) : argv;
  const options = new Map<string, string>();
  const allowed = COMMAND_OPTIONS[command];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (!arg.startsWith('-')) return { kind: 'usage-error', message: `unexpected argument \`${arg}\`` };
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg : arg.slice(0, eq);
    if (!allowed.includes(name)) return { kind: 'usage-error', message: `unknown option \`${name}\`${command === 'serve' ? '' : ` for \`${command}\``}` };
    const value = eq === -1 ? rest[++i] : arg.slice(eq + 1);
    if (value === undefined || value === '' || (eq === -1 && value.startsWith('--'))) return { kind: 'usage-error', message: `option \`${name}\` needs a value` };
    options.set(name, value);
  }
  return { kind: 'run', command, options, argv: [...options].flatMap(([name, value]) => [name, value]) };
}

function isCommand(name: string): name is CommandName {
  return Object.hasOwn(COMMAND_OPTIONS, name);
}
