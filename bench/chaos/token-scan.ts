/**
 * Where a secret shows up in captured text. A token leaks in part as often as whole (truncated
 * log fields, a "starts with" hint in an error), so any `window` characters of it in a row count —
 * which is only sound for tokens drawn from letters that ordinary output never strings together
 * (secretToken below). Pure: the chaos run and its test feed it the output they captured.
 */
export interface TokenLeak {
  readonly secret: string;
  /** The part found, and where (a line of context around it). */
  readonly fragment: string;
  readonly context: string;
}

/** Letters that no hex id, base64 digest of ours, header name or English message strings eight of in a row. */
const ALPHABET = 'jkqvwxzJKQVWXZ';

/** A token of `length` characters from ALPHABET, from `bytes` random bytes (pass in crypto.randomBytes). */
export function secretToken(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += ALPHABET[b % ALPHABET.length];
  return out;
}

export function findTokenLeaks(text: string, secrets: Readonly<Record<string, string>>, window = 8): TokenLeak[] {
  const leaks: TokenLeak[] = [];
  for (const [name, secret] of Object.entries(secrets)) {
    const size = Math.min(window, secret.length);
    for (let i = 0; i + size <= secret.length; i++) {
      const fragment = secret.slice(i, i + size);
      const at = text.indexOf(fragment);
      if (at === -1) continue;
      const start = text.lastIndexOf('\n', at) + 1;
      const end = text.indexOf('\n', at);
      leaks.push({ secret: name, fragment, context: text.slice(start, end === -1 ? undefined : end).slice(0, 300) });
      break; // one finding per secret is enough to fail
    }
  }
  return leaks;
}
