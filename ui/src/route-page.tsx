import { useState } from 'preact/hooks';
import type { PageProps } from './main';
import { api, enc } from './api';
import { Chart } from './chart';
import { useApi } from './hooks';
import { ago, ms, pct, ruleInWords, sourceLabel } from './format';
import type { CanaryRun, FlagRoute, OutcomesAnswer, RoutesAnswer, SideOutcomes, TimelineAnswer } from './types';

const WINDOWS = ['1m', '5m', '15m'] as const;
const PURGE_NOTE = 'The next requests go to legacy and refill the cache.';
const LEGACY = '#8a5a00';
const NEW = '#0b63c5';

interface CacheAnswer {
  routes: Record<string, Record<string, number>>;
}

export function RoutePage(props: PageProps & { route: string }) {
  const [window, setWindow] = useState<(typeof WINDOWS)[number]>('5m');
  const name = enc(props.route);
  const routes = useApi<RoutesAnswer>('/_switchyard/routes', props.tick);
  const flag = useApi<FlagRoute>(`/_switchyard/flags/routes/${name}`, props.tick);
  const outcomes = useApi<OutcomesAnswer>(`/_switchyard/routes/${name}/outcomes?window=${window}`, props.tick);
  const timeline = useApi<TimelineAnswer>(`/_switchyard/routes/${name}/timeline?window=${window}`, props.tick);
  const cache = useApi<CacheAnswer>('/_switchyard/cache', props.tick);
  const run = useApi<CanaryRun>(`/_switchyard/canary/${name}`, props.tick);
  const row = routes.data?.routes.find((r) => r.name === props.route);
  if (routes.data !== null && row === undefined) return <p class="error">No route named {props.route}.</p>;
  if (row === undefined || flag.data === null) return <p class="loading">{flag.error ?? 'Loading…'}</p>;
  const f = flag.data;
  const admin = props.session.role === 'admin';
  const canSwitch = row.legacy !== null && row.new !== null && !row.pinned;

  const change = async (title: string, run: (reason: string) => Promise<unknown>, message?: string) => {
    const reason = await props.ask({ title, ...(message ? { message } : {}) });
    if (reason === null) return;
    try {
      await run(reason);
      props.notify(`${title}: done`);
    } catch (e) {
      props.notify(e instanceof Error ? e.message : String(e), 'error');
    }
    props.refresh();
  };

  const points = timeline.data?.points ?? [];
  const perSecond = (timeline.data?.bucketMs ?? 10_000) / 1000;
  const x = points.map((p) => p.at / 1000);
  const c = cache.data?.routes[props.route];
  const hits = c ? (c['hit'] ?? 0) + (c['stale'] ?? 0) : 0;
  const lookups = c ? Object.values(c).reduce((n, v) => n + (typeof v === 'number' ? v : 0), 0) : 0;

  return (
    <section>
      <p class="crumbs">
        <a href="#/">Routes</a> › {row.name}
      </p>
      <h2>
        {row.name} <span class="mono meta">{row.path}</span>
      </h2>
      <p class="rule" data-testid="rule">
        {ruleInWords({ mode: f.mode, percentage: f.percentage, rollout: row.rollout })} — from {sourceLabel(f.source)}
        {f.source === 'override' && f.by ? `, set by ${f.by} ${ago(f.at)}` : ''}
        {f.reason ? ` (“${f.reason}”)` : ''}
      </p>
      {admin && canSwitch ? <Controls route={props.route} mode={f.mode} percentage={f.percentage} change={change} overridden={f.source === 'override'} /> : null}
      {row.pinned ? <p class="meta">Pinned in its flags/ file: always legacy.</p> : null}
      {row.autopilot ? (
        <div class="card" data-testid="autopilot">
          <strong>Autopilot:</strong>{' '}
          {run.data ? (
            <span>
              {run.data.status} at {run.data.stage.kind === 'shadow' ? 'the shadow stage' : `${run.data.stage.percentage}%`} · <a href="#/autopilot">run details ›</a>
            </span>
          ) : (
            <span class="meta">no run </span>
          )}
          {admin && (run.data === null || ['done', 'rolled_back', 'aborted'].includes(run.data.status)) && run.status !== null ? (
            <button type="button" name="canary-start" onClick={() => void change(`Start the autopilot on ${props.route}`, (reason) => api.post(`/_switchyard/canary/${name}/start`, { reason }))}>
              Start autopilot
            </button>
          ) : null}
        </div>
      ) : null}
      <div class="window">
        Window:{' '}
        {WINDOWS.map((w) => (
          <button type="button" key={w} class={w === window ? 'selected' : ''} onClick={() => setWindow(w)}>
            {w}
          </button>
        ))}
        {outcomes.data ? <span class="meta"> · {outcomes.data.scope === 'fleet' ? 'every instance' : 'this process'}</span> : null}
      </div>
      <div class="split" data-testid="split">
        <SideCard side="legacy" o={outcomes.data?.sides.legacy} total={(outcomes.data?.sides.legacy.requests ?? 0) + (outcomes.data?.sides.new.requests ?? 0)} />
        <SideCard side="new" o={outcomes.data?.sides.new} total={(outcomes.data?.sides.legacy.requests ?? 0) + (outcomes.data?.sides.new.requests ?? 0)} />
      </div>
      <div class="charts">
        <Chart
          title="Requests per second"
          unit="req/s"
          x={x}
          series={[
            { label: 'legacy', color: LEGACY, values: points.map((p) => p.legacy.requests / perSecond) },
            { label: 'new', color: NEW, values: points.map((p) => p.new.requests / perSecond) },
          ]}
        />
        <Chart
          title="Latency p50 / p95 / p99"
          unit="ms"
          x={x}
          series={[
            { label: 'legacy p50', color: LEGACY, values: points.map((p) => p.legacy.p50) },
            { label: 'legacy p95', color: LEGACY, dash: [6, 3], values: points.map((p) => p.legacy.p95) },
            { label: 'legacy p99', color: LEGACY, dash: [2, 3], values: points.map((p) => p.legacy.p99) },
            { label: 'new p50', color: NEW, values: points.map((p) => p.new.p50) },
            { label: 'new p95', color: NEW, dash: [6, 3], values: points.map((p) => p.new.p95) },
            { label: 'new p99', color: NEW, dash: [2, 3], values: points.map((p) => p.new.p99) },
          ]}
        />
        <Chart
          title="Errors (5xx) per second"
          unit="err/s"
          x={x}
          series={[
            { label: 'legacy', color: LEGACY, values: points.map((p) => p.legacy.errors / perSecond) },
            { label: 'new', color: NEW, values: points.map((p) => p.new.errors / perSecond) },
          ]}
        />
      </div>
      {row.cached ? (
        <div class="card">
          <h3>Cache</h3>
          <p data-testid="cache">
            hit ratio {lookups === 0 ? '–' : pct(hits / lookups)} · {c ? Object.entries(c).map(([k, v]) => `${k} ${v}`).join(' · ') : 'no lookups yet'}
          </p>
          {admin ? (
            <button type="button" name="purge-route" onClick={() => void change(`Purge the cache of ${props.route}`, (reason) => api.post('/_switchyard/cache/purge', { route: props.route, reason }), PURGE_NOTE)}>
              Purge this route’s cache
            </button>
          ) : null}
          {admin ? <PurgeUrl change={change} /> : null}
        </div>
      ) : null}
      {row.shadowed ? (
        <div class="card">
          <h3>Shadow</h3>
          <p data-testid="shadow-rate">
            {outcomes.data ? `${outcomes.data.shadow.mismatched} mismatching of ${outcomes.data.shadow.compared} compared in the last ${window} (${pct(outcomes.data.shadow.mismatchRate)})` : '…'}
          </p>
          <a href={`#/route/${name}/shadow`}>Shadow diffs, fields and proposed ignore rules ›</a>
        </div>
      ) : null}
    </section>
  );
}

function SideCard(props: { side: 'legacy' | 'new'; o: SideOutcomes | undefined; total: number }) {
  const o = props.o;
  return (
    <div class={`card side ${props.side}`} data-side={props.side}>
      <h3>{props.side}</h3>
      <p class="big" data-share={o && props.total > 0 ? String(Math.round((o.requests / props.total) * 100)) : ''}>
        {o ? pct(props.total === 0 ? null : o.requests / props.total, 0) : '–'}
      </p>
      <p>
        {o?.requests ?? 0} requests · errors {pct(o?.errorRate)} · cache hits {o?.cacheHits ?? 0}
      </p>
      <p>
        p50 {ms(o?.latencyMs?.p50)} · p95 {ms(o?.latencyMs?.p95)} · p99 {ms(o?.latencyMs?.p99)}
      </p>
    </div>
  );
}

function Controls(props: { route: string; mode: string; percentage: number | null; overridden: boolean; change: (title: string, run: (reason: string) => Promise<unknown>, message?: string) => Promise<void> }) {
  const [percentage, setPercentage] = useState(String(props.percentage ?? 0));
  const path = `/_switchyard/flags/routes/${enc(props.route)}`;
  return (
    <div class="controls card">
      <button type="button" onClick={() => void props.change(`Send ${props.route} to legacy`, (reason) => api.put(path, { mode: 'legacy', reason }))}>All legacy</button>
      <button type="button" onClick={() => void props.change(`Send ${props.route} to the new side`, (reason) => api.put(path, { mode: 'new', reason }))}>All new</button>
      <label>
        Rollout %
        <input name="percentage" type="number" min="0" max="100" value={percentage} onInput={(e) => setPercentage((e.target as HTMLInputElement).value)} />
      </label>
      <button type="button" name="set-percentage" onClick={() => void props.change(`Set ${props.route} to ${percentage}%`, (reason) => api.put(path, { percentage: Number(percentage), reason }))}>
        Set percentage
      </button>
      {props.overridden ? (
        <button type="button" onClick={() => void props.change(`Drop the runtime override of ${props.route}`, (reason) => api.del(path, { reason }))}>
          Drop override
        </button>
      ) : null}
    </div>
  );
}

function PurgeUrl(props: { change: (title: string, run: (reason: string) => Promise<unknown>, message?: string) => Promise<void> }) {
  const [url, setUrl] = useState('');
  return (
    <span class="purge-url">
      <input name="purge-url" placeholder="/flask/report?x=1" value={url} onInput={(e) => setUrl((e.target as HTMLInputElement).value)} />
      <button type="button" name="purge-url" disabled={url === ''} onClick={() => void props.change(`Purge ${url}`, (reason) => api.post('/_switchyard/cache/purge', { url, reason }), PURGE_NOTE)}>
        Purge URL
      </button>
    </span>
  );
}
