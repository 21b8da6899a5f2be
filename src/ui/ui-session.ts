import { createHmac, timingSafeEqual } from 'node:crypto';

/** What a signed-in dashboard user may do: `viewer` reads, `admin` also changes. */
export type UiRole = 'admin' | 'viewer';

export interface UiSession {
  /** Random id: names the session for its CSRF token and for sign-out. */
  readonly id: string;
  readonly role: UiRole;
  /** Who signed in, as typed at sign-in (the audit log's `by`); empty when not given. */
  readonly name: string;
  /** ms since the epoch. */
  readonly expiresAt: number;
}

export const SESSION_COOKIE = 'switchyard_session';
export const CSRF_HEADER = 'x-csrf-token';

/**
 * The key sessions are signed with, derived from the admin token: every instance that shares the
 * token accepts the same cookie (no session store to share), and rotating the token ends every
 * session at once.
 */
export function sessionKey(adminToken: Buffer): Buffer {
  return createHmac('sha256', adminToken).update('switchyard-ui-session-v1').digest();
}

const mac = (key: Buffer, purpose: string, text: string): string => createHmac('sha256', key).update(`${purpose}\n${text}`).digest('base64url');

/** `<payload>.<mac>`: the payload is base64url JSON, the MAC covers it. Pure. */
export function encodeSession(session: UiSession, key: Buffer): string {
  const payload = Buffer.from(JSON.stringify(session)).toString('base64url');
  return `${payload}.${mac(key, 'session', payload)}`;
}

/** The session a cookie value carries, or null when it is forged, malformed or expired. Pure. */
export function decodeSession(value: string, key: Buffer, nowMs: number): UiSession | null {
  const dot = value.indexOf('.');
  if (dot <= 0) return null;
  const payload = value.slice(0, dot);
  if (!sameText(value.slice(dot + 1), mac(key, 'session', payload))) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (!isSession(parsed) || parsed.expiresAt <= nowMs) return null;
  return parsed;
}

/** The CSRF token of a session: bound to it (another session's token does not fit), never in a cookie. */
export function csrfToken(session: UiSession, key: Buffer): string {
  return mac(key, 'csrf', session.id);
}

export function csrfMatches(given: string | undefined, session: UiSession, key: Buffer): boolean {
  return given !== undefined && given !== '' && sameText(given, csrfToken(session, key));
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function isSession(v: unknown): v is UiSession {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  return typeof s['id'] === 'string' && (s['role'] === 'admin' || s['role'] === 'viewer') && typeof s['name'] === 'string' && typeof s['expiresAt'] === 'number';
}

/** Cookie header → the value of `name` (first occurrence), undecoded. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
