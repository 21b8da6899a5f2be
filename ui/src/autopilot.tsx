import type { PageProps } from './main';
import { api, enc } from './api';
import { Chart } from './chart';
import { useApi } from './hooks';
import { pct, time } from './format';
import type { CanaryPosition, CanaryRun } from './types';

const position = (p: CanaryPosition): string => `${p.status} ${p.stage.kind === 'shadow' ? 'shadow' : `${p.percentage}%`}`;

type Action = 'start' | 'pause' | 'resume' | 'promote' | 'promote-full' | 'abort' | 'retry';

/** Which buttons apply to a run in this status (the server still answers 409 when one does not). */
const ACTIONS: Record<CanaryRun['status'], Action[]> = {
  running: ['pause', 'promote', 'promote-full', 'abort'],
  paused: ['resume', 'promote', 'promote-full', 'abort'],
  done: ['start'],
  rolled_back: ['retry', 'start'],
  aborted: ['retry', 'start'],
};

export function AutopilotPage(props: PageProps) {
  const runs = useApi<{ scope: string; runs: CanaryRun[] }>('/_switchyard/canary', props.tick);
  if (runs.status === 404) return <p class="meta">The autopilot is not available on this server.</p>;
  if (runs.data === null) return <p class="loading">{runs.error ?? 'Loading…'}</p>;
  return (
    <section>
      <h2>Autopilot</h2>
      <p class="meta">{runs.data.scope === 'fleet' ? 'Runs shared by every instance; one leader drives them.' : 'Runs in this process only.'}</p>
      {runs.data.runs.length === 0 ? <p class="meta">No autopilot run. Start one from a route with an autopilot policy.</p> : null}
      {runs.data.runs.map((run) => (
        <Run key={run.route} run={run} {...props} />
      ))}
    </section>
  );
}

function Run(props: PageProps & { run: CanaryRun }) {
  const { run } = props;
  const act = async (action: Action) => {
    const danger = action === 'abort' || action === 'promote-full';
    const reason = await props.ask({
      title: `${action} the autopilot run of ${run.route}?`,
      ...(action === 'abort' ? { message: 'The route goes back to legacy and the run stops.' } : action === 'promote-full' ? { message: 'The route goes to 100% new at once.' } : {}),
      danger,
      confirmLabel: action,
    });
    if (reason === null) return;
    try {
      await api.post(`/_switchyard/canary/${enc(run.route)}/${action}`, { reason });
      props.notify(`${run.route}: ${action}`);
    } catch (e) {
      props.notify(e instanceof Error ? e.message : String(e), 'error');
    }
    props.refresh();
  };
  // Set percentage over the run, from each event's position after it (a step line), and the
  // percentage actually in force now.
  const steps = run.events.map((e) => ({ at: Date.parse(e.at) / 1000, percentage: e.to.percentage }));
  const x = [Date.parse(run.startedAt) / 1000, ...steps.map((p) => p.at), Date.parse(run.updatedAt) / 1000].sort((a, b) => a - b);
  const setAt = (t: number) => steps.filter((p) => p.at <= t).pop()?.percentage ?? 0;
  const last = run.evaluations[run.evaluations.length - 1];
  return (
    <div class={`card run ${run.status}`} data-run={run.route}>
      <h3>
        <a href={`#/route/${enc(run.route)}`}>{run.route}</a> <span class={`badge status-${run.status}`} data-testid="run-status">{run.status}</span>
      </h3>
      <p>
        stage: {run.stage.kind} #{run.stage.index} ({run.stage.percentage}%) · set {run.setPercentage}% · actual {run.actualPercentage === null ? '–' : `${run.actualPercentage.toFixed(1)}%`} · started {time(run.startedAt)}
      </p>
      {props.session.role === 'admin' ? (
        <div class="buttons">
          {ACTIONS[run.status].map((a) => (
            <button type="button" key={a} name={`canary-${a}`} class={a === 'abort' ? 'danger' : ''} onClick={() => void act(a)}>
              {a}
            </button>
          ))}
        </div>
      ) : null}
      {run.reason ? <p class="meta">Why: {run.reason}</p> : null}
      {run.stages ? (
        <ol class="stages" data-testid="stages">
          {run.stages.map((s) => (
            <li key={s.index} class={s.index === run.stage.index ? 'current' : s.index < run.stage.index ? 'passed' : ''}>
              {s.kind === 'shadow' ? 'shadow (0%)' : `${s.percentage}%`}
            </li>
          ))}
        </ol>
      ) : null}
      {x.length > 1 ? (
        <Chart
          title="Set vs actual percentage"
          unit="%"
          x={x}
          series={[
            { label: 'set', color: '#0b63c5', values: x.map(setAt) },
            { label: 'actual (now)', color: '#16794c', dash: [4, 3], values: x.map((t, i) => (i === x.length - 1 ? run.actualPercentage : t === x[x.length - 1] ? run.actualPercentage : null)) },
          ]}
          height={180}
        />
      ) : null}
      {last ? (
        <div>
          <h4>
            Latest evaluation ({time(last.at)}): {last.verdict}
          </h4>
          <p>{last.explanation}</p>
        </div>
      ) : null}
      <details>
        <summary>Evaluations ({run.evaluations.length})</summary>
        {run.evaluations
          .slice()
          .reverse()
          .map((e, i) => (
            <div key={i} class="evaluation">
              <p>
                <strong>{time(e.at)}</strong> {e.verdict} — {e.explanation}
              </p>
              <table>
                <thead>
                  <tr>
                    <th>gate</th>
                    <th>result</th>
                    <th>value</th>
                    <th>threshold</th>
                    <th>p</th>
                    <th>samples legacy / new</th>
                  </tr>
                </thead>
                <tbody>
                  {e.gates.map((g) => (
                    <tr key={g.gate} class={g.result} title={g.detail ?? ''}>
                      <td>
                        {g.gate}
                        {g.detail ? <div class="meta">{g.detail}</div> : null}
                      </td>
                      <td>{g.result}</td>
                      <td>{g.value === null ? '–' : String(g.value)}</td>
                      <td>{g.threshold === null ? '–' : String(g.threshold)}</td>
                      <td>{g.pValue === undefined ? '–' : g.pValue.toFixed(3)}</td>
                      <td>
                        {g.samples.legacy} / {g.samples.new}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ))}
      </details>
      <details>
        <summary>Timeline ({run.events.length} events)</summary>
        <ol class="events">
          {run.events.map((e, i) => (
            <li key={i}>
              {time(e.at)} · {e.by} · {e.action}: {position(e.from)} → {position(e.to)} {e.reason ? `(“${e.reason}”)` : ''}
            </li>
          ))}
        </ol>
      </details>
      <p class="meta">
        In force now: {run.actualPercentage === null ? 'decided per request by Unleash' : pct(run.actualPercentage / 100)} · leader {run.leader ?? 'none'}
      </p>
    </div>
  );
}
