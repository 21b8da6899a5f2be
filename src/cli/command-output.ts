import { formatConfigIssue, type ConfigIssue } from '../errors/switchyard-error.js';

/** What a one-shot command prints and how it exits; main.ts writes it out. */
export interface CommandOutput {
  readonly code: number;
  readonly stdout: readonly string[];
  readonly stderr: readonly string[];
}

/** The same block start-up prints for an invalid configuration, so CI logs look like service logs. */
export function problemLines(issues: readonly ConfigIssue[]): string[] {
  return [`switchyard: invalid configuration (${issues.length} problem${issues.length === 1 ? '' : 's'}):`, ...issues.map((i) => `  - ${formatConfigIssue(i)}`)];
}

export const warningLines = (warnings: readonly string[]): string[] => warnings.map((w) => `switchyard: warning: ${w}`);

export const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
