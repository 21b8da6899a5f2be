/** The dashboard's field tree (ui/src/field-tree.ts): pointers grouped by segment, parents aggregating. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildFieldTree, visibleRows, type FieldNode, type FieldStats } from '../../ui/src/field-tree.js';

const f = (field: string, raw: number, noise: number, verdict: FieldStats['verdict']): FieldStats => ({ field, raw, noise, verdict });

/** The tree as nested [pointer, label, raw, noise, verdict, own?] for compact expectations. */
type Shape = [string, string, number, number, string, boolean, Shape[]];
const shape = (nodes: readonly FieldNode[]): Shape[] => nodes.map((n) => [n.pointer, n.label, n.raw, n.noise, n.verdict, n.own !== null, shape(n.children)]);

describe('buildFieldTree', () => {
  it('groups pointers by segment; a parent sums its descendants and is a difference when any of them is', () => {
    const tree = buildFieldTree([f('/price', 5, 0, 'difference'), f('/user/name', 2, 0, 'difference'), f('/user/id', 1, 1, 'noise'), f('/items/*/updated_at', 9, 9, 'noise'), f('/items/*/price', 1, 0, 'difference')]);
    assert.deepEqual(shape(tree), [
      ['/items', 'items', 10, 9, 'difference', false, [['/items/*', '*', 10, 9, 'difference', false, [['/items/*/updated_at', 'updated_at', 9, 9, 'noise', true, []], ['/items/*/price', 'price', 1, 0, 'difference', true, []]]]]],
      ['/price', 'price', 5, 0, 'difference', true, []],
      ['/user', 'user', 3, 1, 'difference', false, [['/user/name', 'name', 2, 0, 'difference', true, []], ['/user/id', 'id', 1, 1, 'noise', true, []]]],
    ]);
  });

  it('a parent of only noise is noise; a pointer that is both a field and a parent keeps its own stats and adds them', () => {
    const tree = buildFieldTree([f('/meta', 2, 2, 'noise'), f('/meta/at', 3, 3, 'noise')]);
    assert.deepEqual(shape(tree), [['/meta', 'meta', 5, 5, 'noise', true, [['/meta/at', 'at', 3, 3, 'noise', true, []]]]]);
    assert.deepEqual(tree[0]?.own, f('/meta', 2, 2, 'noise'));
  });

  it('splits on "/" before unescaping: ~1 is a "/" and ~0 a "~" inside one key; the pointer stays escaped', () => {
    const tree = buildFieldTree([f('/a~1b/c~0d', 1, 0, 'difference'), f('/a~1b/~01', 1, 0, 'noise'), f('/a/b', 4, 0, 'difference')]);
    assert.deepEqual(shape(tree), [
      ['/a', 'a', 4, 0, 'difference', false, [['/a/b', 'b', 4, 0, 'difference', true, []]]],
      ['/a~1b', 'a/b', 2, 0, 'difference', false, [['/a~1b/c~0d', 'c~d', 1, 0, 'difference', true, []], ['/a~1b/~01', '~1', 1, 0, 'noise', true, []]]],
    ]);
  });

  it('the whole body ("") is a top-level field of its own; an empty key ("/") is a child named ""', () => {
    const tree = buildFieldTree([f('', 7, 0, 'difference'), f('/', 1, 0, 'noise'), f('/x//y', 2, 0, 'noise')]);
    assert.deepEqual(shape(tree), [
      ['', '(whole body)', 7, 0, 'difference', true, []],
      ['/x', 'x', 2, 0, 'noise', false, [['/x/', '', 2, 0, 'noise', false, [['/x//y', 'y', 2, 0, 'noise', true, []]]]]],
      ['/', '', 1, 0, 'noise', true, []],
    ]);
  });

  it('no fields, no tree', () => {
    assert.deepEqual(buildFieldTree([]), []);
  });
});

describe('visibleRows', () => {
  const tree = buildFieldTree([f('/user/name', 2, 0, 'difference'), f('/user/address/city', 1, 0, 'difference'), f('/price', 1, 0, 'difference')]);
  const pointers = (expanded: string[]) => visibleRows(tree, new Set(expanded)).map((n) => n.pointer);

  it('collapsed, only the top level shows; expanding a parent shows its children right under it', () => {
    assert.deepEqual(pointers([]), ['/user', '/price']);
    assert.deepEqual(pointers(['/user']), ['/user', '/user/name', '/user/address', '/price']);
    assert.deepEqual(pointers(['/user', '/user/address']), ['/user', '/user/name', '/user/address', '/user/address/city', '/price']);
  });

  it('a child of a collapsed parent stays hidden even when it is expanded itself', () => {
    assert.deepEqual(pointers(['/user/address']), ['/user', '/price']);
  });
});
