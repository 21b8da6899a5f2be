import { spawnSync } from 'node:child_process';

export interface ParsedSample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}
export interface ParsedFamily {
  readonly name: string;
  readonly type: string;
  readonly samples: readonly ParsedSample[];
}

const PARSER = `
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for f in text_string_to_metric_families(sys.stdin.read()):
    out.append({"name": f.name, "type": f.type, "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in f.samples]})
print(json.dumps(out))
`;

/**
 * Parses exposition text with the reference Prometheus client's own parser (Debian's
 * python3-prometheus-client), so the format is checked by something we did not write.
 * Throws with the parser's message on text it rejects.
 */
export function parsePrometheusText(text: string): ParsedFamily[] {
  const run = spawnSync('/usr/bin/python3', ['-c', PARSER], { input: text, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`prometheus_client rejected the text: ${run.stderr.trim().split('\n').pop() ?? run.stderr}`);
  return JSON.parse(run.stdout) as ParsedFamily[];
}

/** The value of one sample, matched by sample name and a subset of labels; undefined when absent. */
export function sampleValue(families: readonly ParsedFamily[], name: string, labels: Record<string, string> = {}): number | undefined {
  for (const family of families) {
    for (const s of family.samples) {
      if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) return s.value;
    }
  }
  return undefined;
}
