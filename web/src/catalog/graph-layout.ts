/**
 * Lays out an entity's relations graph with the entity in the centre. Up to 16 related entities sit on
 * an ellipse around it, each relation type on one arc, one labelled edge per entity. Past that a ring
 * of tiny boxes is unreadable, so each relation type becomes a box of its entities, left and right of
 * the centre, joined to it by one labelled edge. Pure: the component only draws what this returns.
 * Coordinates are SVG user units.
 */

export interface GraphNodeInput {
  ref: string;
  label: string;
  kind: string;
}

export interface GraphGroupInput {
  type: string;
  label: string;
  color: string;
  nodes: GraphNodeInput[];
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PlacedNode extends GraphNodeInput, Box {
  type: string;
  color: string;
}

export interface PlacedEdge {
  type: string;
  color: string;
  /** SVG path data from the centre's border to the node's (or the group box's) border. */
  d: string;
  /** Where the relation type's label goes; one edge of each relation type carries it. */
  label?: { text: string; x: number; y: number };
}

/** A relation type's box in the grouped layout, around its entities. */
export interface PlacedGroup extends Box {
  type: string;
  label: string;
  color: string;
  count: number;
}

export interface GraphLayout {
  width: number;
  height: number;
  center: GraphNodeInput & Box;
  nodes: PlacedNode[];
  edges: PlacedEdge[];
  groups: PlacedGroup[];
}

export const nodeHeight = 46;
export const centerSize = { width: 212, height: 56 };
/** Longest label drawn in full; longer ones end in an ellipsis. */
export const maxLabelChars = 28;
/** Past this many related entities the grouped layout is used. */
export const radialMaxNodes = 16;
export const labelHeight = 20;
const margin = 28;
const gap = 14;
/** The ellipse is flatter than a circle: nodes are wide, screens are wide. */
const aspect = 0.56;

export function layoutRelationsGraph(center: GraphNodeInput, groups: GraphGroupInput[]): GraphLayout {
  const nonEmpty = groups.filter((g) => g.nodes.length > 0);
  const count = nonEmpty.reduce((sum, g) => sum + g.nodes.length, 0);
  return count > radialMaxNodes ? layoutGrouped(center, nonEmpty) : layoutRadial(center, nonEmpty);
}

/** Wide enough for the label in 13px semibold type (about 7.6 units a character), within bounds. */
export function nodeWidth(label: string): number {
  return Math.round(Math.min(250, Math.max(140, 34 + Math.min(label.length, maxLabelChars) * 7.6)));
}

/** The pill an edge label is drawn in: 11px semibold text. */
export function labelWidth(text: string): number {
  return text.length * 6.4 + 14;
}

function layoutRadial(center: GraphNodeInput, groups: GraphGroupInput[]): GraphLayout {
  const items = groups.flatMap((group) => group.nodes.map((node) => ({ node, group })));
  const angles = arcAngles(groups.map((g) => g.nodes.length));
  const place = (radius: number): PlacedNode[] =>
    items.map(({ node, group }, i) => {
      const angle = angles[i] ?? 0;
      const width = nodeWidth(node.label);
      const cx = Math.cos(angle) * radius;
      const cy = Math.sin(angle) * radius * aspect;
      return { ...node, type: group.type, color: group.color, x: cx - width / 2, y: cy - nodeHeight / 2, width, height: nodeHeight };
    });

  const centerBox: Box = { x: -centerSize.width / 2, y: -centerSize.height / 2, ...centerSize };
  // Grow the ellipse until no two boxes overlap (16 nodes at most: quadratic is fine).
  let radius = 230;
  let nodes = place(radius);
  while (hasOverlap([centerBox, ...nodes]) && radius < 4000) {
    radius *= 1.06;
    nodes = place(radius);
  }
  const segments = nodes.map((node) => ({ node, ...segmentBetween(centerBox, node) }));
  const edges: PlacedEdge[] = segments.map((s) => ({ type: s.node.type, color: s.node.color, d: `M ${s.x1} ${s.y1} L ${s.x2} ${s.y2}` }));

  // One label per relation type, on one of its edges: the middle edge first, at its middle first,
  // moving along and across edges until the label covers no node and no other label.
  const taken: Box[] = [centerBox, ...nodes];
  for (const group of groups) {
    const members = segments.map((s, i) => ({ ...s, i })).filter((s) => s.node.type === group.type);
    const middle = Math.floor((members.length - 1) / 2);
    const byPreference = [...members].sort((a, b) => Math.abs(members.indexOf(a) - middle) - Math.abs(members.indexOf(b) - middle));
    const width = labelWidth(group.label);
    const at = (s: (typeof members)[number], t: number): Box => ({
      x: s.x1 + (s.x2 - s.x1) * t - width / 2,
      y: s.y1 + (s.y2 - s.y1) * t - labelHeight / 2,
      width,
      height: labelHeight,
    });
    let chosen: { index: number; box: Box } | undefined;
    for (const s of byPreference) {
      const t = [0.5, 0.42, 0.58, 0.34, 0.66, 0.26, 0.74].find((candidate) => !taken.some((other) => overlaps(at(s, candidate), other, 2)));
      if (t !== undefined) {
        chosen = { index: s.i, box: at(s, t) };
        break;
      }
    }
    // Crowded: the middle edge's midpoint, even if something is under it.
    const fallback = members[middle];
    if (chosen === undefined && fallback !== undefined) chosen = { index: fallback.i, box: at(fallback, 0.5) };
    const edge = chosen === undefined ? undefined : edges[chosen.index];
    if (chosen === undefined || edge === undefined) continue;
    taken.push(chosen.box);
    edge.label = { text: group.label, x: chosen.box.x + width / 2, y: chosen.box.y + labelHeight / 2 };
  }
  return normalize({ center: { ...center, ...centerBox }, nodes, edges, groups: [] });
}

const groupedNodeWidth = 196;
const groupHeader = 34;
const groupPadding = 10;
const rowStep = nodeHeight + 8;
const sideGap = 150;
const groupGap = 18;

function layoutGrouped(center: GraphNodeInput, groups: GraphGroupInput[]): GraphLayout {
  // Balance the two sides: the largest relation types first, each to the shorter side; reading order within a side.
  const height = (g: GraphGroupInput) => groupBoxSize(g).height + groupGap;
  const sides: { left: GraphGroupInput[]; right: GraphGroupInput[] } = { left: [], right: [] };
  const used = { left: 0, right: 0 };
  for (const group of [...groups].sort((a, b) => b.nodes.length - a.nodes.length)) {
    const side = used.right < used.left ? 'right' : 'left';
    sides[side].push(group);
    used[side] += height(group);
  }
  const order = (list: GraphGroupInput[]) => list.sort((a, b) => groups.indexOf(a) - groups.indexOf(b));
  order(sides.left);
  order(sides.right);

  const columnWidth = (list: GraphGroupInput[]) => Math.max(0, ...list.map((g) => groupBoxSize(g).width));
  const leftWidth = columnWidth(sides.left);
  const totalHeight = Math.max(used.left, used.right, centerSize.height) - groupGap;
  const centerBox: Box = { x: leftWidth + sideGap, y: totalHeight / 2 - centerSize.height / 2, ...centerSize };
  const rightX = centerBox.x + centerBox.width + sideGap;

  const nodes: PlacedNode[] = [];
  const placed: PlacedGroup[] = [];
  const edges: PlacedEdge[] = [];
  const stack = (list: GraphGroupInput[], side: 'left' | 'right') => {
    let y = (totalHeight - (used[side] - groupGap)) / 2;
    for (const group of list) {
      const size = groupBoxSize(group);
      const x = side === 'left' ? leftWidth - size.width : rightX;
      const box: PlacedGroup = { type: group.type, label: group.label, color: group.color, count: group.nodes.length, x, y, ...size };
      placed.push(box);
      const columns = groupColumns(group);
      group.nodes.forEach((node, i) => {
        nodes.push({
          ...node,
          type: group.type,
          color: group.color,
          x: x + groupPadding + (i % columns) * (groupedNodeWidth + groupPadding),
          y: y + groupHeader + Math.floor(i / columns) * rowStep,
          width: groupedNodeWidth,
          height: nodeHeight,
        });
      });
      // A horizontal S-curve from the centre's side to the middle of the group box's near side.
      const x1 = side === 'left' ? centerBox.x : centerBox.x + centerBox.width;
      const y1 = centerBox.y + centerBox.height / 2;
      const x2 = side === 'left' ? x + size.width : x;
      const y2 = y + Math.min(size.height / 2, groupHeader / 2 + 4);
      const bend = (x2 - x1) / 2;
      edges.push({
        type: group.type,
        color: group.color,
        d: `M ${x1} ${y1} C ${x1 + bend} ${y1}, ${x2 - bend} ${y2}, ${x2} ${y2}`,
        label: { text: `${group.label} (${group.nodes.length})`, x: (x1 + x2) / 2, y: (y1 + y2) / 2 },
      });
      y += size.height + groupGap;
    }
  };
  stack(sides.left, 'left');
  stack(sides.right, 'right');
  return normalize({ center: { ...center, ...centerBox }, nodes, edges, groups: placed });
}

/** Two columns of entities inside a group box from 6 entities on, one below that. */
function groupColumns(group: GraphGroupInput): number {
  return group.nodes.length >= 6 ? 2 : 1;
}

function groupBoxSize(group: GraphGroupInput): { width: number; height: number } {
  const columns = groupColumns(group);
  const rows = Math.ceil(group.nodes.length / columns);
  return { width: columns * groupedNodeWidth + (columns + 1) * groupPadding, height: groupHeader + rows * rowStep + groupPadding - 8 };
}

/** Moves the drawing so it starts at (margin, margin) and measures it. */
function normalize(layout: Omit<GraphLayout, 'width' | 'height'>): GraphLayout {
  const all: Box[] = [layout.center, ...layout.nodes, ...layout.groups];
  const minX = Math.min(...all.map((b) => b.x)) - margin;
  const minY = Math.min(...all.map((b) => b.y)) - margin;
  const maxX = Math.max(...all.map((b) => b.x + b.width)) + margin;
  const maxY = Math.max(...all.map((b) => b.y + b.height)) + margin;
  const shift = <T extends Box>(b: T): T => ({ ...b, x: b.x - minX, y: b.y - minY });
  return {
    width: Math.ceil(maxX - minX),
    height: Math.ceil(maxY - minY),
    center: shift(layout.center),
    nodes: layout.nodes.map(shift),
    groups: layout.groups.map(shift),
    edges: layout.edges.map((e) => ({
      ...e,
      d: shiftPath(e.d, -minX, -minY),
      label: e.label === undefined ? undefined : { ...e.label, x: e.label.x - minX, y: e.label.y - minY },
    })),
  };
}

/** Shifts an absolute path made of `M`, `L` and `C` commands with "x y" pairs. */
function shiftPath(d: string, dx: number, dy: number): string {
  return d.replace(/(-?\d+(?:\.\d+)?(?:e-?\d+)?) (-?\d+(?:\.\d+)?(?:e-?\d+)?)/g, (_m, x: string, y: string) => `${round(Number(x) + dx)} ${round(Number(y) + dy)}`);
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

/**
 * One angle per node, clockwise from the top: each group gets an arc in proportion to its size and
 * groups are kept apart by an empty slot.
 */
export function arcAngles(groupSizes: number[]): number[] {
  const total = groupSizes.reduce((sum, n) => sum + n, 0);
  const groupCount = groupSizes.filter((n) => n > 0).length;
  if (total === 0) return [];
  const gapSlots = groupCount > 1 ? 0.8 : 0;
  const step = (2 * Math.PI) / (total + gapSlots * groupCount);
  const angles: number[] = [];
  let position = gapSlots / 2;
  for (const size of groupSizes) {
    if (size === 0) continue;
    for (let i = 0; i < size; i += 1) angles.push(-Math.PI / 2 + (position + i + 0.5) * step);
    position += size + gapSlots;
  }
  return angles;
}

export function hasOverlap(boxes: Box[]): boolean {
  for (let i = 0; i < boxes.length; i += 1) {
    for (let j = i + 1; j < boxes.length; j += 1) {
      if (overlaps(boxes[i]!, boxes[j]!, gap)) return true;
    }
  }
  return false;
}

function overlaps(a: Box, b: Box, space: number): boolean {
  return a.x < b.x + b.width + space && b.x < a.x + a.width + space && a.y < b.y + b.height + space && b.y < a.y + a.height + space;
}

/** A straight segment from the border of one box to the border of another, along the line joining their centres. */
function segmentBetween(from: Box, to: Box): { x1: number; y1: number; x2: number; y2: number } {
  const fx = from.x + from.width / 2;
  const fy = from.y + from.height / 2;
  const tx = to.x + to.width / 2;
  const ty = to.y + to.height / 2;
  const dx = tx - fx;
  const dy = ty - fy;
  const exit = (box: Box) => Math.min(dx === 0 ? Infinity : box.width / 2 / Math.abs(dx), dy === 0 ? Infinity : box.height / 2 / Math.abs(dy));
  const s = exit(from);
  const t = exit(to);
  return { x1: round(fx + dx * s), y1: round(fy + dy * s), x2: round(tx - dx * t), y2: round(ty - dy * t) };
}
