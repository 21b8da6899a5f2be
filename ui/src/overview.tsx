import type { PageProps } from './main';
import { api } from './api';
import { useApi } from './hooks';
import { ago, pct, ruleInWords, sourceLabel } from './format';
import type { FlagsAnswer, RoutesAnswer, RouteRow } from './types';

/** Days a legacy side must have been unused (on a fully migrated route) to be "ready to remove". */
const STALE_DAYS = 7;

export function Overview(props: PageProps) {
  const routes = useApi<RoutesAnswer>('/_switchyard/routes', props.tick);
  const flags = useApi<FlagsAnswer>('/_switchyard/flags', props.tick);
  if (routes.data === null || flags.data === null) return <p class="loading">{routes.error ?? flags.error ?? 'Loading routes…'}</p>;
  const r = routes.data;
  const f = flags.data;
  const switchable = r.routes.filter((x) => x.legacy !== null && x.new !== null);
  const newShare = (x: RouteRow) => (x.mode === 'new' ? 1 : x.mode === 'rollout' ? (x.percentage ?? 0) / 100 : 0);
  const routeShare = switchable.length === 0 ? 0 : switchable.reduce((n, x) => n + newShare(x), 0) / switchable.length;
  const served = r.routes.reduce((n, x) => n + x.decisions.legacy + x.decisions.new, 0);
  const servedNew = r.routes.reduce((n, x) => n + x.decisions.new, 0);
  // The autopilot moves a route through a runtime override it signs as `autopilot`.
  const overrideBy = new Map(f.routes.map((x) => [x.route, x.by]));
  const from = (x: RouteRow) => (f.killSwitch.effective ? 'kill switch' : x.source === 'override' && (overrideBy.get(x.name) ?? '').startsWith('autopilot') ? 'autopilot' : sourceLabel(x.source));
  const upDays = (Date.now() - Date.parse(r.countingSince)) / 86_400_000;
  const stale = (x: RouteRow) => x.legacy !== null && x.mode === 'new' && upDays >= STALE_DAYS && (x.lastSeen.legacy === null || Date.now() - Date.parse(x.lastSeen.legacy) > STALE_DAYS * 86_400_000);

  const toggleKill = async () => {
    const on = !f.killSwitch.effective;
    const reason = await props.ask({
      title: on ? 'Turn the kill switch ON?' : 'Turn the kill switch off?',
      message: on ? 'Every route goes to legacy, on every instance, until it is turned off.' : 'Routes go back to their flags (overrides, Unleash, flags/).',
      danger: on,
      confirmLabel: on ? 'Kill switch ON' : 'Kill switch off',
    });
    if (reason === null) return;
    try {
      await api.put('/_switchyard/flags/kill-switch', { on, reason });
      props.notify(`kill switch ${on ? 'on' : 'off'}`);
    } catch (e) {
      props.notify(e instanceof Error ? e.message : String(e), 'error');
    }
    props.refresh();
  };

  return (
    <section>
      <div class={`killswitch ${f.killSwitch.effective ? 'on' : 'off'}`}>
        <strong>Kill switch: {f.killSwitch.effective ? 'ON — every route is on legacy' : 'off'}</strong>
        {f.killSwitch.env ? <span> (USE_LEGACY in this process)</span> : null}
        {f.killSwitch.runtime ? <span class="meta"> set by {f.killSwitch.runtime.by} {ago(f.killSwitch.runtime.at)}{f.killSwitch.runtime.reason ? `: “${f.killSwitch.runtime.reason}”` : ''}</span> : null}
        {props.session.role === 'admin' ? (
          <button type="button" name="kill-switch" class={f.killSwitch.effective ? '' : 'danger'} onClick={() => void toggleKill()}>
            {f.killSwitch.effective ? 'Turn off' : 'Turn on'}
          </button>
        ) : null}
        <span class="meta"> · changes reach {f.scope === 'all-instances' ? 'every instance (Redis)' : 'this process only'}</span>
      </div>
      <h2>Migration progress</h2>
      <div class="progress-row">
        <Progress label="routes on the new side" value={routeShare} />
        <Progress label="traffic served by the new side (since start)" value={served === 0 ? 0 : servedNew / served} />
      </div>
      <h2>Routes</h2>
      <table class="routes">
        <thead>
          <tr>
            <th>route</th>
            <th>path</th>
            <th>mode</th>
            <th>from</th>
            <th>owner</th>
            <th>target</th>
            <th>last traffic</th>
            <th>served legacy / new</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {r.routes.map((x) => (
            <tr key={x.name} data-route={x.name}>
              <td>
                <a href={`#/route/${encodeURIComponent(x.name)}`}>{x.name}</a>
              </td>
              <td class="mono">{x.path}</td>
              <td>
                {x.mode}
                {x.mode === 'rollout' ? ` ${x.percentage ?? 0}%` : ''}
                {x.pinned ? ' (pinned)' : ''}
                <div class="meta">{ruleInWords(x)}</div>
              </td>
              <td>{from(x)}</td>
              <td>{x.migration?.owner ?? '–'}</td>
              <td>{x.migration?.targetDate ?? '–'}</td>
              <td>{ago(latest(x.lastSeen.legacy, x.lastSeen.new))}</td>
              <td>
                {x.decisions.legacy} / {x.decisions.new}
              </td>
              <td>
                {stale(x) ? <span class="badge ok">ready to remove legacy</span> : null}
                {x.legacy !== null && x.new === null ? <span class="badge">legacy only</span> : null}
                {x.legacy === null && x.new !== null ? <span class="badge">new only</span> : null}
                {x.shadowed ? <span class="badge">shadowed</span> : null}
                {x.cached ? <span class="badge">cached</span> : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="meta">
        Counting since {ago(r.countingSince)}. “Ready to remove” means fully on the new side with the legacy side unused for {STALE_DAYS} days.
      </p>
    </section>
  );
}

function latest(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return Date.parse(a) > Date.parse(b) ? a : b;
}

function Progress(props: { label: string; value: number }) {
  return (
    <div class="progress" title={pct(props.value)}>
      <div class="bar">
        <div class="fill" style={{ width: `${Math.round(props.value * 100)}%` }} />
      </div>
      <span>
        {pct(props.value, 0)} {props.label}
      </span>
    </div>
  );
}
