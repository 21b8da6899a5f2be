/**
 * A response body shown as text, never as markup: JSON pretty-printed one line per value with the
 * JSON Pointer of each line, so the differing fields can be highlighted; anything else verbatim.
 * Preact puts strings into text nodes, so a `<script>` in a body is just characters here.
 */
interface Line {
  pointer: string;
  text: string;
  depth: number;
}

function lines(value: unknown, pointer: string, depth: number, key: string | null, last: boolean, out: Line[]): void {
  const prefix = key === null ? '' : `${JSON.stringify(key)}: `;
  const comma = last ? '' : ',';
  if (Array.isArray(value) || (typeof value === 'object' && value !== null)) {
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value as Record<string, unknown>);
    const [open, close] = Array.isArray(value) ? ['[', ']'] : ['{', '}'];
    if (entries.length === 0) {
      out.push({ pointer, text: `${prefix}${open}${close}${comma}`, depth });
      return;
    }
    out.push({ pointer, text: `${prefix}${open}`, depth });
    entries.forEach(([k, v], i) => lines(v, `${pointer}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`, depth + 1, Array.isArray(value) ? null : k, i === entries.length - 1, out));
    out.push({ pointer, text: `${close}${comma}`, depth });
    return;
  }
  out.push({ pointer, text: `${prefix}${JSON.stringify(value)}${comma}`, depth });
}

/** `differing`: exact pointer → the field's verdict (real differences are marked red, noise faintly). */
export function BodyView(props: { body: string; differing: ReadonlyMap<string, 'difference' | 'noise'> }) {
  let parsed: unknown;
  try {
    parsed = JSON.parse(props.body);
  } catch {
    return <pre class="body text">{props.body}</pre>;
  }
  const out: Line[] = [];
  lines(parsed, '', 0, null, true, out);
  return (
    <pre class="body json">
      {out.map((l, i) => {
        const verdict = l.pointer === '' ? undefined : props.differing.get(l.pointer);
        return (
          <div key={i} class={verdict === 'difference' ? 'line diff' : verdict === 'noise' ? 'line noise' : 'line'} data-pointer={l.pointer}>
            {'  '.repeat(l.depth)}
            {l.text}
          </div>
        );
      })}
    </pre>
  );
}
