/**
 * Cache-Control directives (RFC 9111 §5.2), read as a recipient must: names are case-insensitive
 * (`PRIVATE` is `private`), values are tokens or quoted strings, several header lines are one
 * list, and commas inside quoted strings (`private="a, b"`) do not split. Pure.
 */
export interface Directive {
  /** The first occurrence's value (unquoted), or null for a bare directive (`no-store`). */
  readonly value: string | null;
  /** False when the member was not `token [ "=" ( token / quoted-string ) ]` (`max-age = 5`, `max-age="5`). */
  readonly wellFormed: boolean;
  /** A later occurrence gave a different value (`max-age=5, max-age=10`). */
  readonly conflicting: boolean;
}

export type Directives = ReadonlyMap<string, Directive>;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function parseCacheControl(header: string | readonly string[] | undefined): Directives {
  const out = new Map<string, Directive>();
  if (header === undefined) return out;
  for (const line of typeof header === 'string' ? [header] : header) {
    for (const member of splitList(line)) {
      const parsed = parseMember(member);
      if (parsed === null) continue;
      const previous = out.get(parsed.name);
      if (previous === undefined) out.set(parsed.name, { value: parsed.value, wellFormed: parsed.wellFormed, conflicting: false });
      else if (previous.value !== parsed.value || !parsed.wellFormed) out.set(parsed.name, { ...previous, conflicting: true });
    }
  }
  return out;
}

/**
 * A delta-seconds directive (`max-age`, `s-maxage`, …): null when absent, 'invalid' when present
 * but not a non-negative integer (or given twice with different values), else the seconds —
 * capped at 2^31 as RFC 9111 §1.2.2 says.
 */
export function deltaSeconds(directives: Directives, name: string): number | 'invalid' | null {
  const d = directives.get(name);
  if (d === undefined) return null;
  if (!d.wellFormed || d.conflicting || d.value === null || !/^\d+$/.test(d.value)) return 'invalid';
  return Math.min(Number(d.value), 2 ** 31);
}

/** A delta-seconds value, or `fallback` when absent or invalid. */
export function secondsOr(directives: Directives, name: string, fallback: number): number {
  const v = deltaSeconds(directives, name);
  return typeof v === 'number' ? v : fallback;
}

/** Directives whose value must be a delta-seconds integer (in a targeted field: an sf-integer). */
const DELTA_DIRECTIVES = new Set(['max-age', 's-maxage', 'stale-while-revalidate', 'stale-if-error', 'min-fresh', 'max-stale']);
const SF_KEY = /^[a-z*][a-z0-9_\-.*]*$/;
// sf-string: printable ASCII only (RFC 8941 §3.3.3), quotes and backslashes escaped.
const SF_BARE_ITEM = /^(?:-?\d{1,15}(?:\.\d{1,3})?|"(?:[ !#-[\]-~]|\\["\\])*"|[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*|:[A-Za-z0-9+/=]*:|\?[01])$/;

/**
 * A targeted cache-control field (RFC 9213: `CDN-Cache-Control`) is a Structured Field
 * Dictionary (RFC 8941). Null when it does not parse as one, or a delta directive is not a
 * non-negative integer (`max-age="10000"`): the field must then be ignored as a whole.
 */
export function parseTargetedCacheControl(header: string | readonly string[] | undefined): Directives | null {
  if (header === undefined) return null;
  const out = new Map<string, Directive>();
  const text = typeof header === 'string' ? header : header.join(', ');
  if (text.trim() === '') return null;
  for (const raw of splitList(text)) {
    const [member = '', ...params] = raw.split(';');
    for (const param of params) if (!sfParameter(param)) return null;
    const eq = member.indexOf('=');
    const key = eq === -1 ? member : member.slice(0, eq);
    if (!SF_KEY.test(key)) return null;
    let value: string | null = null;
    if (eq !== -1) {
      const item = member.slice(eq + 1);
      if (!SF_BARE_ITEM.test(item)) return null;
      // `?1` is the bare form's value (true); `?0` turns the directive off.
      if (item === '?0') continue;
      value = item === '?1' ? null : item.startsWith('"') ? item.slice(1, -1).replace(/\\(["\\])/g, '$1') : item;
      if (DELTA_DIRECTIVES.has(key) && !/^\d{1,15}$/.test(item)) return null;
    } else if (DELTA_DIRECTIVES.has(key) && key !== 'max-stale') return null;
    if (out.has(key)) out.delete(key); // RFC 8941: the last occurrence of a key wins
    out.set(key, { value, wellFormed: true, conflicting: false });
  }
  return out;
}

function sfParameter(param: string): boolean {
  const eq = param.indexOf('=');
  const key = (eq === -1 ? param : param.slice(0, eq)).trim();
  return SF_KEY.test(key) && (eq === -1 || SF_BARE_ITEM.test(param.slice(eq + 1)));
}

/** Serialises directives back to a header value (tokens stay bare, other values are quoted). */
export function formatCacheControl(directives: Directives): string {
  const parts: string[] = [];
  for (const [name, d] of directives) parts.push(d.value === null ? name : `${name}=${TOKEN.test(d.value) ? d.value : quote(d.value)}`);
  return parts.join(', ');
}

function quote(value: string): string {
  return `"${value.replace(/(["\\])/g, '\\$1')}"`;
}

/** Splits a list on commas that are not inside a quoted string. */
function splitList(line: string): string[] {
  const members: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted && ch === '\\' && i + 1 < line.length) {
      current += ch + line[++i];
      continue;
    }
    if (ch === '"') quoted = !quoted;
    if (ch === ',' && !quoted) {
      members.push(current);
      current = '';
    } else current += ch;
  }
  members.push(current);
  return members.map((m) => m.trim()).filter((m) => m !== '');
}

function parseMember(member: string): { name: string; value: string | null; wellFormed: boolean } | null {
  const eq = member.indexOf('=');
  const rawName = eq === -1 ? member : member.slice(0, eq);
  const name = rawName.trim().toLowerCase();
  if (name === '') return null;
  if (eq === -1) return { name, value: null, wellFormed: TOKEN.test(name) };
  const rawValue = member.slice(eq + 1);
  const wellFormedName = TOKEN.test(rawName);
  if (rawValue.startsWith('"')) {
    const unquoted = unquote(rawValue);
    return unquoted === null ? { name, value: rawValue, wellFormed: false } : { name, value: unquoted, wellFormed: wellFormedName };
  }
  return { name, value: rawValue.trim(), wellFormed: wellFormedName && TOKEN.test(rawValue) };
}

/** The content of a complete quoted-string, or null when it is not one. */
function unquote(text: string): string | null {
  let out = '';
  for (let i = 1; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\') {
      if (i + 1 >= text.length) return null;
      out += text[++i];
    } else if (ch === '"') return i === text.length - 1 ? out : null;
    else out += ch;
  }
  return null;
}
