/**
 * Where a serving process's time goes, from a V8 CPU profile (`.cpuprofile`, what `--cpu-prof` and
 * the inspector's Profiler write) — pure, no I/O. Self time per function, grouped into the
 * categories the README's "Where the time goes" speaks of, and divided by the requests served
 * while the profile ran: microseconds per request, comparable between a Switchyard mode and a bare
 * Node server profiled the same way. V8 samples on wall-clock time, so "busy" is time the main
 * thread was not idle, including waits for a core while it was runnable.
 */
export interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  /** Microseconds (V8's monotonic clock). */
  readonly startTime: number;
  readonly endTime: number;
  /** The node on top of the stack at each sample. */
  readonly samples: readonly number[];
  /** Microseconds from the previous sample (the first: from startTime). */
  readonly timeDeltas: readonly number[];
}

export type Category = 'Switchyard' | 'bench server' | 'undici' | 'other packages' | 'Node core (JS)' | 'native (builtins, syscalls)' | 'V8 (program)' | 'GC';

export interface FunctionCost {
  /** `name file:line`, the file relative to the repository where it is inside it. */
  readonly name: string;
  readonly category: Category;
  readonly us: number;
}

export interface ProfileSummary {
  /** The profile's span. */
  readonly totalUs: number;
  /** Samples with nothing running (the event loop waiting). */
  readonly idleUs: number;
  readonly busyUs: number;
  /** Busy time per category, largest first. */
  readonly categories: readonly { readonly category: Category; readonly us: number }[];
  /** Self time per function (same name and place merged), largest first. */
  readonly functions: readonly FunctionCost[];
}

/** What a frame's code is. `repoRoot` tells Switchyard's own files (src/, or dist/src/ compiled) from packages'. */
export function categoryOf(frame: ProfileNode['callFrame'], repoRoot: string): Category | 'idle' {
  const { functionName, url } = frame;
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(program)') return 'V8 (program)';
  if (url === '') return 'native (builtins, syscalls)';
  if (url.startsWith('node:')) return 'Node core (JS)';
  const file = url.startsWith('file://') ? url.slice('file://'.length) : url;
  // undici parses HTTP with llhttp compiled to WebAssembly (Node's own parser is native); nothing
  // else in a bench server runs wasm.
  if (file.includes('/node_modules/undici/') || url.startsWith('wasm://')) return 'undici';
  if (file.includes('/node_modules/')) return 'other packages';
  if (file.startsWith(`${repoRoot}/src/`) || file.startsWith(`${repoRoot}/dist/src/`)) return 'Switchyard';
  // The bare servers' own few lines (bench/servers.ts), compiled or not.
  if (file.startsWith(`${repoRoot}/bench/`) || file.startsWith(`${repoRoot}/dist/bench/`)) return 'bench server';
  return 'other packages';
}

/**
 * Each sample is charged the interval up to the next one (the last: up to endTime), as Chrome's
 * profiler panel does; a node's self time is the sum over the samples it topped.
 */
export function summariseProfile(profile: CpuProfile, repoRoot: string): ProfileSummary {
  const byId = new Map<number, ProfileNode>();
  for (const node of profile.nodes) byId.set(node.id, node);
  const selfUs = new Map<number, number>();
  let at = profile.startTime;
  const times: number[] = [];
  for (const delta of profile.timeDeltas) times.push((at += delta));
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    const started = times[i];
    if (id === undefined || started === undefined) continue;
    const ended = times[i + 1] ?? profile.endTime;
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, ended - started));
  }
  let idleUs = 0;
  const categories = new Map<Category, number>();
  const functions = new Map<string, FunctionCost>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (node === undefined) continue;
    const category = categoryOf(node.callFrame, repoRoot);
    if (category === 'idle') {
      idleUs += us;
      continue;
    }
    categories.set(category, (categories.get(category) ?? 0) + us);
    const name = functionLabel(node.callFrame, repoRoot);
    const known = functions.get(name);
    functions.set(name, { name, category, us: (known?.us ?? 0) + us });
  }
  const totalUs = profile.endTime - profile.startTime;
  const busyUs = [...categories.values()].reduce((sum, us) => sum + us, 0);
  return {
    totalUs,
    idleUs,
    busyUs,
    categories: [...categories].map(([category, us]) => ({ category, us })).sort((a, b) => b.us - a.us || a.category.localeCompare(b.category)),
    functions: [...functions.values()].sort((a, b) => b.us - a.us || a.name.localeCompare(b.name)),
  };
}

function functionLabel(frame: ProfileNode['callFrame'], repoRoot: string): string {
  const name = frame.functionName === '' ? '(anonymous)' : frame.functionName;
  if (frame.url === '') return name;
  const file = frame.url.startsWith('file://') ? frame.url.slice('file://'.length) : frame.url;
  const shown = file.startsWith(`${repoRoot}/`) ? file.slice(repoRoot.length + 1) : file.replace(/^.*\/node_modules\//, '');
  // V8's line numbers are 0-based.
  return `${name} ${shown}:${frame.lineNumber + 1}`;
}

/** A markdown report: µs per request by category and for the `top` costliest functions. */
export function formatSummary(summary: ProfileSummary, requests: number, top = 25): string {
  const per = (us: number): string => (requests > 0 ? (us / requests).toFixed(2) : '–');
  const share = (us: number): string => (summary.busyUs > 0 ? `${((100 * us) / summary.busyUs).toFixed(1)}%` : '–');
  const lines = [
    `busy ${(summary.busyUs / 1000).toFixed(0)} ms of ${(summary.totalUs / 1000).toFixed(0)} ms profiled, ${requests} requests: **${per(summary.busyUs)} µs per request** (main thread, not idle)`,
    '',
    '| category | µs/request | share |',
    '|---|---:|---:|',
    ...summary.categories.map((c) => `| ${c.category} | ${per(c.us)} | ${share(c.us)} |`),
    '',
    '| function (self time) | category | µs/request | share |',
    '|---|---|---:|---:|',
    ...summary.functions.slice(0, top).map((f) => `| \`${f.name}\` | ${f.category} | ${per(f.us)} | ${share(f.us)} |`),
  ];
  return lines.join('\n');
}
