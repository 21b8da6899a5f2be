import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../errors/switchyard-error.js';
import { decisionKey, MemoryIgnoreRuleStore, RulesStoreUnavailableError, type IgnoreRuleDecision, type RuleAuditEntry } from './ignore-rule-store.js';

/** What the file holds; `format` lets a later version tell an old file from a foreign one. */
interface RulesFileContent {
  readonly format: typeof FORMAT;
  readonly decisions: readonly IgnoreRuleDecision[];
  readonly audit: readonly RuleAuditEntry[];
}

const FORMAT = 'switchyard-shadow-rules/1';
const DECISION_TEXT_KEYS = ['route', 'field', 'by', 'at', 'reason'] as const;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The first thing wrong with a decision, or null. */
function decisionProblem(d: unknown): string | null {
  if (!isObject(d)) return 'is not an object';
  for (const key of DECISION_TEXT_KEYS) if (typeof d[key] !== 'string') return `has no string \`${key}\``;
  if (d['decision'] !== 'approved' && d['decision'] !== 'rejected') return '`decision` is neither "approved" nor "rejected"';
  return null;
}

/** Parses the file's text, or says (for the start-up error) what is wrong with it. */
export function parseRulesFile(text: string): RulesFileContent | string {
  let content: unknown;
  try {
    content = JSON.parse(text);
  } catch (error) {
    return `not JSON: ${(error as Error).message}`;
  }
  if (!isObject(content)) return 'not a JSON object';
  if (content['format'] !== FORMAT) return `\`format\` is ${JSON.stringify(content['format'])}, not "${FORMAT}"`;
  const { decisions, audit } = content;
  if (!Array.isArray(decisions)) return '`decisions` is not an array';
  if (!Array.isArray(audit) || !audit.every(isObject)) return '`audit` is not an array of objects';
  for (const [i, d] of decisions.entries()) {
    const problem = decisionProblem(d);
    if (problem !== null) return `decisions[${i}] ${problem}`;
  }
  return { format: FORMAT, decisions: decisions as IgnoreRuleDecision[], audit: audit as unknown as RuleAuditEntry[] };
}

/**
 * The embedded default's decisions kept across restarts: this process's copy in memory (what the
 * differ reads), the file read once at start and rewritten whole on every decision — to a temp
 * file, synced, then renamed over the old one, so a crash leaves the old file or the new one,
 * never half of one. A write that fails refuses the decision (503) and nothing changes, as a
 * Redis outage does. One process per file: instances that share decisions use Redis.
 */
export class FileIgnoreRuleStore extends MemoryIgnoreRuleStore {
  override readonly kind = 'file';

  private constructor(readonly file: string) {
    super();
  }

  /** Reads the file (none yet: no decisions); a file that is not ours or is damaged stops the start. */
  static async load(file: string): Promise<FileIgnoreRuleStore> {
    const store = new FileIgnoreRuleStore(file);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return store;
      throw new ConfigError([{ file, field: '(shadow rules file)', reason: `cannot be read: ${(error as Error).message}` }]);
    }
    const content = parseRulesFile(text);
    if (typeof content === 'string') throw new ConfigError([{ file, field: '(shadow rules file)', reason: `${content} (fix or remove it; settings.shadow.rulesFile: null keeps decisions in memory)` }]);
    store.byKey = new Map(content.decisions.map((d) => [decisionKey(d.route, d.field), d]));
    store.log = [...content.audit];
    return store;
  }

  protected override async persist(decisions: readonly IgnoreRuleDecision[], audit: readonly RuleAuditEntry[]): Promise<void> {
    const content: RulesFileContent = { format: FORMAT, decisions, audit };
    const temp = `${this.file}.${process.pid}-${randomUUID().slice(0, 8)}.tmp`;
    try {
      await mkdir(path.dirname(this.file), { recursive: true });
      const handle = await open(temp, 'w', 0o644);
      try {
        await handle.writeFile(`${JSON.stringify(content, null, 2)}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, this.file);
    } catch (error) {
      await rm(temp, { force: true }).catch(() => {});
      throw new RulesStoreUnavailableError(`the ignore-rule file ${this.file} cannot be written: ${(error as Error).message}`, { cause: error });
    }
  }
}
