import { isMap, LineCounter, parseDocument, type Document } from 'yaml';
import type { ConfigIssue } from '../errors/switchyard-error.js';

/** One flags file, parsed, with the means to point at the line of any field in it. */
export interface YamlSource {
  readonly file: string;
  readonly value: unknown;
  lineOf(path: readonly (string | number)[], key?: string): number | undefined;
}

export type YamlParseResult = { readonly ok: true; readonly source: YamlSource } | { readonly ok: false; readonly issues: ConfigIssue[] };

export function parseYamlSource(file: string, text: string): YamlParseResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      issues: doc.errors.map((e) => ({ file, field: '(yaml)', reason: e.message.split('\n')[0] ?? e.message, line: e.linePos?.[0].line })),
    };
  }
  let value: unknown;
  try {
    // Throws on what parsing lets through, e.g. an alias bomb ("excessive alias count").
    value = doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (error) {
    return { ok: false, issues: [{ file, field: '(yaml)', reason: error instanceof Error ? error.message : String(error) }] };
  }
  return { ok: true, source: { file, value, lineOf: (path, key) => lineOf(doc, lineCounter, path, key) } };
}

function lineOf(doc: Document, counter: LineCounter, path: readonly (string | number)[], key?: string): number | undefined {
  const node: unknown = path.length === 0 ? doc.contents : doc.getIn(path, true);
  if (key !== undefined && isMap(node)) {
    const pair = node.items.find((item) => (item.key as { value?: unknown } | null)?.value === key);
    const range = (pair?.key as { range?: [number, number, number] } | null)?.range;
    if (range) return counter.linePos(range[0]).line;
  }
  const range = (node as { range?: [number, number, number] } | null)?.range;
  return range ? counter.linePos(range[0]).line : undefined;
}

/** `['routes', 2, 'rollout']` → `routes[2].rollout`. */
export function formatFieldPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out === '' ? part : `.${part}`;
  return out === '' ? '(root)' : out;
}
