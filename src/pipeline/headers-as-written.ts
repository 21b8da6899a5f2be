import type { OutgoingHttpHeaders } from 'node:http';

/** What `res.writeHead` takes as headers: an object, a flat `[name, value, …]` list, or `[name, value]` pairs. */
export type WriteHeadHeaders = OutgoingHttpHeaders | readonly unknown[] | undefined;

/**
 * The headers a response went out with, from the ones set on it before `writeHead` (`setHeader`)
 * and the ones `writeHead` was given, the way Node combines them: a name given to `writeHead`
 * replaces the one set before, and repeats within the list are kept (as arrays, lower-case names).
 * Needed because Node's fast path — `writeHead` with a list and nothing set before, which is how
 * the undici dispatch answers — never stores the headers on the response: `getHeaders()` is empty.
 */
export function headersAsWritten(setBefore: OutgoingHttpHeaders, given: WriteHeadHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = { ...setBefore };
  const lines = givenLines(given);
  for (const [name] of lines) delete out[name];
  for (const [name, value] of lines) {
    const seen = out[name];
    if (seen === undefined) out[name] = value;
    else out[name] = [...(Array.isArray(seen) ? seen : [String(seen)]), ...(Array.isArray(value) ? value : [String(value)])];
  }
  return out;
}

function givenLines(given: WriteHeadHeaders): [string, string | number | string[]][] {
  if (given === undefined || given === null) return [];
  const lines: [string, string | number | string[]][] = [];
  const add = (name: unknown, value: unknown): void => {
    if (typeof name !== 'string' || name === '' || value === undefined) return;
    lines.push([name.toLowerCase(), Array.isArray(value) ? value.map((v) => `${v as string}`) : typeof value === 'number' ? value : `${value as string}`]);
  };
  if (Array.isArray(given)) {
    const list = given as readonly unknown[];
    if (list.length > 0 && Array.isArray(list[0])) for (const pair of list as readonly unknown[][]) add(pair[0], pair[1]);
    else for (let i = 0; i + 1 < list.length; i += 2) add(list[i], list[i + 1]);
  } else for (const [name, value] of Object.entries(given)) add(name, value);
  return lines;
}
