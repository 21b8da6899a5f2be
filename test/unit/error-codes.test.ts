import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ERROR_CODES } from '../../src/errors/error-codes.js';
import { problemTitle } from '../../src/errors/problem.js';

describe('error code catalogue', () => {
  it('every code is documented in README.md with its status', async () => {
    const readme = await readFile(path.resolve(import.meta.dirname, '../../README.md'), 'utf8');
    for (const [code, { status }] of Object.entries(ERROR_CODES)) {
      assert.match(readme, new RegExp(`\\| \`${code}\` \\| ${status} \\|`), `${code} (${status}) is not in README's error-code table`);
    }
  });

  it('every code has a real problem title for its status, and names are SWITCHYARD_ + upper snake case', () => {
    for (const [code, { status }] of Object.entries(ERROR_CODES)) {
      assert.match(code, /^SWITCHYARD_[A-Z]+(_[A-Z]+)*$/);
      assert.doesNotMatch(problemTitle(status), /^(Client|Server) Error$/, code);
    }
  });
});
