import { csrfMatches, csrfToken, decodeSession, encodeSession, readCookie, SESSION_COOKIE, sessionKey, type UiRole, type UiSession } from './ui-session.js';

export interface UiSessionsOptions {
  readonly adminToken: Buffer;
  readonly ttlMs: number;
  readonly now: () => number;
  readonly randomId: () => string;
}

/**
 * Dashboard sessions: signed cookies (see ui-session.ts) plus this process's list of signed-out
 * ones. The cookie is what every instance checks; sign-out clears it in the browser and refuses
 * its id here until it would have expired anyway.
 */
export class UiSessions {
  private readonly key: Buffer;
  private readonly revoked = new Map<string, number>();

  constructor(private readonly options: UiSessionsOptions) {
    this.key = sessionKey(options.adminToken);
  }

  get ttlMs(): number {
    return this.options.ttlMs;
  }

  issue(role: UiRole, name: string): { session: UiSession; cookieValue: string; csrf: string } {
    const session: UiSession = { id: this.options.randomId(), role, name, expiresAt: this.options.now() + this.options.ttlMs };
    return { session, cookieValue: encodeSession(session, this.key), csrf: csrfToken(session, this.key) };
  }

  /** The live session the request's Cookie header carries, if any. */
  fromCookieHeader(header: string | undefined): UiSession | null {
    const value = readCookie(header, SESSION_COOKIE);
    if (value === undefined) return null;
    const session = decodeSession(value, this.key, this.options.now());
    return session === null || this.revoked.has(session.id) ? null : session;
  }

  csrf(session: UiSession): string {
    return csrfToken(session, this.key);
  }

  csrfMatches(given: string | undefined, session: UiSession): boolean {
    return csrfMatches(given, session, this.key);
  }

  revoke(session: UiSession): void {
    const now = this.options.now();
    for (const [id, until] of this.revoked) if (until <= now) this.revoked.delete(id);
    this.revoked.set(session.id, session.expiresAt);
  }
}
