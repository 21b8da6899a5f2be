/**
 * The shadow view's field tree: the differ's JSON Pointers (RFC 6901, array indices already
 * collapsed to `*` as it reports them) grouped by their path segments. Pure, with no imports, so
 * the unit tests (NodeNext) and the page (bundler) both load it as is.
 */
export type Verdict = 'difference' | 'noise';

export interface FieldStats {
  field: string;
  raw: number;
  noise: number;
  verdict: Verdict;
}

export interface FieldNode {
  /** The pointer up to this node, escaped as the differ writes it (`/a~1b`); '' is the whole body. */
  pointer: string;
  /** The last segment unescaped (`a/b`), what the reader sees. */
  label: string;
  depth: number;
  /** The differ's own stats when this pointer is itself a field (a leaf, or a parent that also differed). */
  own: FieldStats | null;
  /** Own counts plus every descendant's: how often something under this pointer differed (summed per field). */
  raw: number;
  noise: number;
  /** 'difference' when this field or any field under it is a real difference. */
  verdict: Verdict;
  children: FieldNode[];
}

function unescapeSegment(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** Escaped segments: splitting on '/' before unescaping keeps `~1` (a '/' inside a key) in its segment. */
function segments(pointer: string): string[] {
  return pointer === '' ? [] : pointer.slice(1).split('/');
}

function emptyNode(pointer: string, escapedSegment: string, depth: number): FieldNode {
  const label = pointer === '' ? '(whole body)' : unescapeSegment(escapedSegment);
  return { pointer, label, depth, own: null, raw: 0, noise: 0, verdict: 'noise', children: [] };
}

function childOf(parent: FieldNode, escapedSegment: string): FieldNode {
  const pointer = `${parent.pointer}/${escapedSegment}`;
  let child = parent.children.find((c) => c.pointer === pointer);
  if (child === undefined) {
    child = emptyNode(pointer, escapedSegment, parent.depth + 1);
    parent.children.push(child);
  }
  return child;
}

function addStats(node: FieldNode, stats: FieldStats): void {
  node.raw += stats.raw;
  node.noise += stats.noise;
  if (stats.verdict === 'difference') node.verdict = 'difference';
}

/** Most differing first (as the flat table was), then by code point (not locale) so the order is the same everywhere. */
function sortTree(nodes: FieldNode[]): FieldNode[] {
  nodes.sort((a, b) => b.raw - a.raw || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
  for (const n of nodes) sortTree(n.children);
  return nodes;
}

/** Pointer list → the top-level nodes; a parent's counts and verdict aggregate its descendants'. */
export function buildFieldTree(fields: readonly FieldStats[]): FieldNode[] {
  // A virtual root (never shown) holds the top-level keys; '' (the whole body differed) is a
  // top-level node of its own, beside them.
  const root = emptyNode('', '', -1);
  const whole = fields.find((f) => f.field === '');
  const top: FieldNode[] = [];
  if (whole !== undefined) {
    const node = emptyNode('', '', 0);
    node.own = whole;
    addStats(node, whole);
    top.push(node);
  }
  for (const f of fields) {
    if (f.field === '') continue;
    let node = root;
    for (const segment of segments(f.field)) {
      node = childOf(node, segment);
      addStats(node, f);
    }
    node.own = f;
  }
  return sortTree([...top, ...root.children]);
}

/** The rows to show: a node, then its children when it is expanded (depth first). */
export function visibleRows(nodes: readonly FieldNode[], expanded: ReadonlySet<string>): FieldNode[] {
  const rows: FieldNode[] = [];
  for (const n of nodes) {
    rows.push(n);
    if (n.children.length > 0 && expanded.has(n.pointer)) rows.push(...visibleRows(n.children, expanded));
  }
  return rows;
}
