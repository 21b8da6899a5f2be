import type { SessionRevocations } from './session-revocations.js';
import { csrfMatches, csrfToken, decodeSession, encodeSession, readCookie, SESSION_COOKIE, sessionKey, type UiRole, type UiSession } from './ui-session.js';

export interface UiSessionsOptions {
  readonly adminToken: Buffer;
  readonly ttlMs: number;
  readonly now: () => number;
  readonly randomId: () => string;
  /** Signed-out sessions: shared through Redis when there is one, else this process's. */
  readonly revocations: SessionRevocations;
}

/**
 * Dashboard sessions: signed cookies (see ui-session.ts) plus the list of signed-out ones. The
 * cookie is what every instance checks; sign-out clears it in the browser and refuses its id
 * until it would have expired anyway — on every instance with Redis, else in this process.
 */
/** Why a session that was live no longer is (an open event stream tells the page, then ends). */
export type SessionEnd = 'signed-out' | 'expired';

export class UiSessions {
  private readonly key: Buffer;
  private readonly revokeListeners = new Set<(id: string) => void>();

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

  /** true: a sign-out is refused by every instance (Redis), not only this one. */
  get sharedSignOut(): boolean {
    return this.options.revocations.shared;
  }

  /** The live session the request's Cookie header carries, if any. */
  async fromCookieHeader(header: string | undefined): Promise<UiSession | null> {
    const value = readCookie(header, SESSION_COOKIE);
    if (value === undefined) return null;
    const session = decodeSession(value, this.key, this.options.now());
    if (session === null) return null;
    return (await this.options.revocations.isRevoked(session.id, session.expiresAt)) ? null : session;
  }

  csrf(session: UiSession): string {
    return csrfToken(session, this.key);
  }

  csrfMatches(given: string | undefined, session: UiSession): boolean {
    return csrfMatches(given, session, this.key);
  }

  /**
   * Whether a session that was live when a long request (an event stream) began still is: null,
   * or why it ended — it expired, or it was signed out here or (with Redis) on another instance.
   */
  async ended(session: UiSession): Promise<SessionEnd | null> {
    if (session.expiresAt <= this.options.now()) return 'expired';
    return (await this.options.revocations.isRevoked(session.id, session.expiresAt)) ? 'signed-out' : null;
  }

  /** Told of every sign-out taken by this process (its open streams end at once); returns the unsubscribe. */
  onRevoke(listener: (id: string) => void): () => void {
    this.revokeListeners.add(listener);
    return () => this.revokeListeners.delete(listener);
  }

  /** Refused here at once; rejects when the sign-out could not be shared with the other instances. */
  revoke(session: UiSession): Promise<void> {
    const shared = this.options.revocations.revoke(session.id, session.expiresAt);
    // Before Redis answers: this process's streams of the session end even when sharing fails.
    for (const listener of [...this.revokeListeners]) listener(session.id);
    return shared;
  }

  close(): Promise<void> {
    return this.options.revocations.close();
  }
}
