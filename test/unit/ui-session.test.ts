import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { csrfMatches, csrfToken, decodeSession, encodeSession, readCookie, sessionKey, type UiSession } from '../../src/ui/ui-session.js';
import { MemoryRevocations } from '../../src/ui/session-revocations.js';
import { UiSessions } from '../../src/ui/ui-sessions.js';

const key = sessionKey(Buffer.from('admin-token-0123456789abcdef'));
const session: UiSession = { id: 's1', role: 'admin', name: 'ana', expiresAt: 10_000 };

describe('dashboard sessions (pure)', () => {
  it('round-trips a signed session until it expires', () => {
    const cookie = encodeSession(session, key);
    assert.deepEqual(decodeSession(cookie, key, 9_999), session);
    assert.equal(decodeSession(cookie, key, 10_000), null, 'expired at expiresAt');
  });

  it('refuses a forged, altered, truncated or foreign cookie', () => {
    const cookie = encodeSession(session, key);
    const [payload, mac] = cookie.split('.') as [string, string];
    const promoted = Buffer.from(JSON.stringify({ ...session, role: 'admin', expiresAt: 9e15 })).toString('base64url');
    assert.equal(decodeSession(`${promoted}.${mac}`, key, 0), null, 'payload changed under the old MAC');
    assert.equal(decodeSession(`${payload}.${mac.slice(0, -2)}`, key, 0), null);
    assert.equal(decodeSession(payload, key, 0), null);
    assert.equal(decodeSession('', key, 0), null);
    assert.equal(decodeSession(cookie, sessionKey(Buffer.from('another-admin-token-0123456')), 0), null, 'a rotated admin token ends every session');
    const notJson = Buffer.from('{"id":').toString('base64url');
    assert.equal(decodeSession(`${notJson}.${encodeSession(session, key).split('.')[1]}`, key, 0), null);
  });

  it("binds the CSRF token to the session: another session's token does not fit", () => {
    const token = csrfToken(session, key);
    assert.equal(csrfMatches(token, session, key), true);
    assert.equal(csrfMatches(token, { ...session, id: 's2' }, key), false);
    assert.equal(csrfMatches('', session, key), false);
    assert.equal(csrfMatches(undefined, session, key), false);
    assert.equal(csrfMatches(token.slice(1), session, key), false);
  });

  it('reads one cookie out of a Cookie header', () => {
    assert.equal(readCookie('a=1; switchyard_session=abc.def; b=2', 'switchyard_session'), 'abc.def');
    assert.equal(readCookie('xswitchyard_session=1', 'switchyard_session'), undefined);
    assert.equal(readCookie(undefined, 'switchyard_session'), undefined);
  });

  it('issues viewer and admin sessions, and a signed-out one stops working here', async () => {
    let now = 1_000;
    let n = 0;
    const sessions = new UiSessions({ adminToken: Buffer.from('admin-token-0123456789abcdef'), ttlMs: 60_000, now: () => now, randomId: () => `id${++n}`, revocations: new MemoryRevocations(() => now) });
    assert.equal(sessions.sharedSignOut, false);
    const viewer = sessions.issue('viewer', 'vic');
    assert.deepEqual(viewer.session, { id: 'id1', role: 'viewer', name: 'vic', expiresAt: 61_000 });
    const header = `switchyard_session=${viewer.cookieValue}`;
    assert.equal((await sessions.fromCookieHeader(header))?.role, 'viewer');
    assert.equal(sessions.csrfMatches(viewer.csrf, viewer.session), true);
    await sessions.revoke(viewer.session);
    assert.equal(await sessions.fromCookieHeader(header), null);
    const admin = sessions.issue('admin', '');
    now = 61_000;
    assert.equal(await sessions.fromCookieHeader(`switchyard_session=${admin.cookieValue}`), null, 'expired');
  });
});
