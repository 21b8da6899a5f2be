import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ENVIRONMENT } from '../../src/cli/environment.js';
import { ERROR_CODES } from '../../src/errors/error-codes.js';
import { helpText } from '../../src/cli/help-text.js';

const listed = new Set(ENVIRONMENT.flatMap((g) => g.variables.map((v) => v.name)));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

/**
 * Every upper-case literal in src/ that looks like one of our variables and is not an error
 * code: codes are the literals passed to an error's constructor or set as `code:`. Scanning
 * literals, not just `process.env[…]`, also finds names read through helpers (`fromEnv('x',
 * 'SWITCHYARD_PORT')`, `get('UNLEASH_URL')`, lists of names).
 */
function variablesReadInSrc(): Set<string> {
  const texts = sourceFiles('src').map((f) => readFileSync(f, 'utf8'));
  const all = texts.join('\n');
  // The catalogue too: a code can be passed around in a table (e.g. a bearer guard's `forbidden`).
  const codes = new Set([...Object.keys(ERROR_CODES), ...[...all.matchAll(/(?:Error\(|super\(|code: )'([A-Z][A-Z0-9_]+)'/g)].map((m) => m[1]!)]);
  const names = [...all.matchAll(/'((?:SWITCHYARD|UNLEASH|OTEL|REDIS|USE)_[A-Z0-9_]+|PORT)'/g)].map((m) => m[1]!);
  return new Set(names.filter((n) => !codes.has(n)));
}

describe('environment variables', () => {
  it('every variable src/ reads is listed for --help (and nothing listed is unread)', () => {
    const read = variablesReadInSrc();
    assert.ok(read.has('SWITCHYARD_PORT') && read.has('UNLEASH_URL') && read.has('OTEL_SDK_DISABLED') && read.has('REDIS_URL'), [...read].join(' '));
    assert.deepEqual([...read].filter((n) => !listed.has(n)).sort(), [], 'read but not in src/cli/environment.ts');
    assert.deepEqual([...listed].filter((n) => !read.has(n)).sort(), [], 'listed but never read');
  });

  it('--help names each with its default, and the README documents each', () => {
    const help = helpText();
    const readme = readFileSync('README.md', 'utf8');
    for (const group of ENVIRONMENT) {
      for (const v of group.variables) {
        assert.ok(help.includes(`${v.name}`) && help.includes(`[default: ${v.default}]`), v.name);
        assert.ok(readme.includes(`\`${v.name}\``), `README lacks ${v.name}`);
      }
    }
  });
});
