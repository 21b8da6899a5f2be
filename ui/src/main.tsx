import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { render } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, setCsrf } from './api';
import { ReasonDialog, type Ask, type AskOptions } from './dialog';
import { Overview } from './overview';
import { RoutePage } from './route-page';
import { ShadowPage } from './shadow-page';
import { AutopilotPage } from './autopilot';
import { AuditPage } from './audit';
import type { Session } from './types';

/** What every page gets: the session, a tick that moves on each live update, and the reason dialog. */
export interface PageProps {
  session: Session;
  tick: number;
  ask: Ask;
  /** Re-read now (after a change this page made). */
  refresh: () => void;
  notify: (message: string, kind?: 'ok' | 'error') => void;
}

function useHash(): string {
  const [hash, setHash] = useState(location.hash || '#/');
  useEffect(() => {
    const on = () => setHash(location.hash || '#/');
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

/** Waits between attempts at a stream EventSource gave up on: 1 s, 2 s, 4 s… at most 15 s. */
const reconnectDelayMs = (attempt: number): number => Math.min(1000 * 2 ** attempt, 15_000);

/**
 * Live updates over Server-Sent Events. EventSource reconnects by itself when a stream breaks
 * (the server says `retry: 2000`), but gives up for good on an answer that is not a 200 event
 * stream — a proxy's 502/503 while an instance restarts, a 401 — so the page then opens a new one
 * itself, with a growing delay, until a stream answers again.
 */
function useLive(enabled: boolean, onSessionEnded: (reason: string) => void): { tick: number; live: boolean; bump: () => void } {
  const [tick, setTick] = useState(0);
  const [live, setLive] = useState(false);
  useEffect(() => {
    if (!enabled) return;
    let source: EventSource | null = null;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let attempt = 0;
    const open = (): void => {
      const current = new EventSource('/_switchyard/events');
      source = current;
      current.addEventListener('update', () => {
        attempt = 0;
        setLive(true);
        setTick((t) => t + 1);
      });
      // The server ends the stream of a session signed out (here or on another instance) or expired.
      current.addEventListener('session-ended', (e) => {
        current.close();
        const reason = (JSON.parse((e as MessageEvent<string>).data) as { reason?: unknown }).reason;
        onSessionEnded(reason === 'expired' ? 'Your session expired: sign in again.' : 'Your session was signed out: sign in again.');
      });
      current.onerror = () => {
        setLive(false);
        if (current.readyState !== EventSource.CLOSED) return;
        current.close();
        retry = setTimeout(open, reconnectDelayMs(attempt++));
      };
    };
    open();
    return () => {
      clearTimeout(retry);
      source?.close();
    };
  }, [enabled, onSessionEnded]);
  return { tick, live, bump: () => setTick((t) => t + 1) };
}

function SignIn(props: { onSignedIn: (s: Session) => void; problem: string | null }) {
  const [token, setToken] = useState('');
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(props.problem);
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      const session = await api.post<Session>('/_switchyard/ui/session', { token, name });
      setToken('');
      props.onSignedIn(session);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  return (
    <form class="signin" onSubmit={(e) => void submit(e)}>
      <h1>Switchyard</h1>
      <p>Sign in with the admin token (or the viewer token, to look without changing anything). It is exchanged for a session cookie and not kept by the page.</p>
      <label>
        Token
        <input type="password" name="token" autoComplete="off" value={token} onInput={(e) => setToken((e.target as HTMLInputElement).value)} />
      </label>
      <label>
        Your name (for the audit log)
        <input name="name" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
      </label>
      <button type="submit" class="primary">Sign in</button>
      {error ? <p class="error" role="alert">{error}</p> : null}
    </form>
  );
}

function App() {
  const [session, setSession] = useState<Session | null>(null);
  const [checked, setChecked] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [dialog, setDialog] = useState<{ options: AskOptions; resolve: (r: string | null) => void } | null>(null);
  const [toast, setToast] = useState<{ message: string; kind: 'ok' | 'error' } | null>(null);
  const hash = useHash();
  const onSessionEnded = useCallback((message: string) => {
    setCsrf('');
    setSession(null);
    setProblem(message);
  }, []);
  const { tick, live, bump } = useLive(session !== null, onSessionEnded);

  useEffect(() => {
    // The demo prints a link with the token in the fragment (never sent to the server): sign in
    // with it once and drop it from the address bar and history.
    const fromLink = /^#token=([^&]+)/.exec(location.hash)?.[1];
    if (fromLink !== undefined) history.replaceState(null, '', `${location.pathname}#/`);
    const signedIn = fromLink === undefined ? api.get<Session>('/_switchyard/ui/session') : api.post<Session>('/_switchyard/ui/session', { token: decodeURIComponent(fromLink), name: '' });
    signedIn
      .then((s) => {
        setCsrf(s.csrfToken);
        setSession(s);
      })
      .catch((e: unknown) => {
        if (e instanceof ApiError && e.status !== 401) setProblem(e.detail);
      })
      .finally(() => setChecked(true));
  }, []);

  const ask: Ask = useCallback((options) => new Promise((resolve) => setDialog({ options, resolve })), []);
  // One timer: an earlier message's must not take a newer one down before its 4 s.
  const toastTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const notify = useCallback((message: string, kind: 'ok' | 'error' = 'ok') => {
    setToast({ message, kind });
    clearTimeout(toastTimer.current);
    toastTimer.current = setTimeout(() => setToast(null), 4000);
  }, []);

  if (!checked) return <p class="loading">Loading…</p>;
  if (session === null) {
    return (
      <SignIn
        problem={problem}
        onSignedIn={(s) => {
          setCsrf(s.csrfToken);
          setSession(s);
        }}
      />
    );
  }
  const signOut = async () => {
    await api.del('/_switchyard/ui/session').catch(() => {});
    setCsrf('');
    setSession(null);
  };
  const props: PageProps = { session, tick, ask, refresh: bump, notify };
  const parts = hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  let page;
  if (parts[0] === 'route' && parts[1] !== undefined && parts[2] === 'shadow') page = <ShadowPage {...props} route={parts[1]} />;
  else if (parts[0] === 'route' && parts[1] !== undefined) page = <RoutePage {...props} route={parts[1]} />;
  else if (parts[0] === 'autopilot') page = <AutopilotPage {...props} />;
  else if (parts[0] === 'audit') page = <AuditPage {...props} />;
  else page = <Overview {...props} />;
  return (
    <div class="shell">
      <header>
        <a class="brand" href="#/">Switchyard</a>
        <nav>
          <a href="#/">Routes</a>
          <a href="#/autopilot">Autopilot</a>
          <a href="#/audit">Audit log</a>
        </nav>
        <span class={`live ${live ? 'on' : 'off'}`} title="Server-Sent Events">{live ? '● live' : '○ reconnecting…'}</span>
        <span class="who">
          {session.name || 'signed in'} · {session.role}
        </span>
        <button type="button" onClick={() => void signOut()}>Sign out</button>
      </header>
      <main>{page}</main>
      {toast ? <div class={`toast ${toast.kind}`} role="status">{toast.message}</div> : null}
      {dialog ? (
        <ReasonDialog
          options={dialog.options}
          onDone={(r) => {
            dialog.resolve(r);
            setDialog(null);
          }}
        />
      ) : null}
    </div>
  );
}

render(<App />, document.getElementById('app')!);
