/** Small formatting helpers; everything the page shows goes through Preact as text. */
export const pct = (v: number | null | undefined, digits = 1): string => (v === null || v === undefined ? '–' : `${(v * 100).toFixed(digits)}%`);
export const ms = (v: number | null | undefined): string => (v === null || v === undefined ? '–' : v < 10 ? `${v.toFixed(2)} ms` : `${Math.round(v)} ms`);
export const ago = (iso: string | null | undefined, now = Date.now()): string => {
  if (iso === null || iso === undefined) return 'never';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
};
export const time = (iso: string): string => new Date(iso).toLocaleString();

interface RuleInput {
  mode: string;
  percentage?: number | null;
  rollout?: { percentage: number; groupId: string; stickiness: ({ header: string } | { cookie: string })[] };
}

/** "25% of users by X-User-Id, group users" — the flag's rule in plain words. */
export function ruleInWords(r: RuleInput): string {
  if (r.mode === 'legacy') return 'everyone on legacy';
  if (r.mode === 'new') return 'everyone on the new side';
  const p = r.percentage ?? r.rollout?.percentage ?? 0;
  const by = (r.rollout?.stickiness ?? []).map((s) => ('header' in s ? s.header : `cookie ${s.cookie}`)).join(', then ');
  return `${p}% of users${by ? ` by ${by}` : ''}${r.rollout ? `, group ${r.rollout.groupId}` : ''} on the new side (sticky)`;
}

export function sourceLabel(source: string): string {
  return ({ file: 'flags/ file', unleash: 'Unleash', override: 'runtime override', autopilot: 'autopilot', kill_switch: 'kill switch' } as Record<string, string>)[source] ?? source;
}
