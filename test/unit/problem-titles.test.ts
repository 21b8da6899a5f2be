import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { problemTitle } from '../../src/errors/problem.js';

describe('problem titles', () => {
  it('every status Switchyard answers with has its reason phrase as the title', async () => {
    const root = path.resolve(import.meta.dirname, '../../src');
    const statuses = new Set<number>();
    for (const entry of await readdir(root, { recursive: true })) {
      if (!entry.endsWith('.ts')) continue;
      const text = await readFile(path.join(root, entry), 'utf8');
      for (const m of text.matchAll(/status: (\d{3})\b/g)) statuses.add(Number(m[1]));
    }
    assert.ok(statuses.has(401) && statuses.has(403) && statuses.has(504), [...statuses].join(','));
    for (const status of statuses) assert.doesNotMatch(problemTitle(status), /^(Client|Server) Error$/, `status ${status}`);
    assert.equal(problemTitle(401), 'Unauthorized');
    assert.equal(problemTitle(403), 'Forbidden');
  });
});
