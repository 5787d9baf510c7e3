import type { FanInLayout } from './fan-in-layout.js';

/**
 * Where the fan-in graph's labels go, in screen pixels: the view is fitted so that the ring of
 * discs sits in the middle with a column for labels on either side, and each side's labels are
 * stacked top to bottom without overlap (the usual pie-chart label layout), each joined to its
 * disc by a leader line. Working in pixels is what makes "no overlap" hold at every screen size:
 * font sizes are pixels, so a layout in graph units overlaps or not depending on the zoom.
 *
 * The renderer draws exactly these boxes and exposes them (data-label-boxes) so a browser test
 * can check them at 1920×1080 and 3840×2160.
 */

export interface LabelBox {
  /** Index into layout.clusters, or -1 for the target label. */
  cluster: number;
  lines: string[];
  /** Screen px, origin top left of the graph. */
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  /** Text anchor side: labels right of the ring start at x0, left of it end at x1. */
  align: 'start' | 'end' | 'middle';
  /** Leader line from the disc's edge to the label, screen px (none for the target). */
  leader?: [number, number, number, number];
}

export interface DiscBox {
  cluster: number;
  cx: number;
  cy: number;
  r: number;
}

export interface LabelPlacement {
  /** deck.gl OrthographicView state that the boxes assume. */
  target: [number, number];
  zoom: number;
  /** px per layout unit (2 ** zoom). */
  scale: number;
  labels: LabelBox[];
  discs: DiscBox[];
}

export interface LabelOptions {
  width: number;
  height: number;
  labelPx: number;
  lineHeight?: number;
  /** Label text per cluster (lines); clusters without text get no label. */
  text: (cluster: number) => string[] | undefined;
  /** Lines under the target (address, entry link). */
  targetLines: string[];
  /** Text width in px; defaults to an estimate for DejaVu Sans (0.62 em per character). */
  measure?: (text: string, px: number) => number;
  /** Clusters in priority order (biggest first); labels that do not fit are dropped from the end. */
  order?: number[];
}

const estimate = (text: string, px: number) => text.length * px * 0.62;

/** Do two boxes overlap (touching edges do not count)? */
export function boxesOverlap(
  a: { x0: number; y0: number; x1: number; y1: number },
  b: { x0: number; y0: number; x1: number; y1: number },
): boolean {
  return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
}

/** Does a box overlap a disc? */
export function boxHitsDisc(a: { x0: number; y0: number; x1: number; y1: number }, d: DiscBox): boolean {
  const nx = Math.max(a.x0, Math.min(d.cx, a.x1));
  const ny = Math.max(a.y0, Math.min(d.cy, a.y1));
  return (nx - d.cx) ** 2 + (ny - d.cy) ** 2 < d.r * d.r;
}

export function placeLabels(layout: FanInLayout, o: LabelOptions): LabelPlacement {
  const measure = o.measure ?? estimate;
  const lh = o.labelPx * (o.lineHeight ?? 1.15);
  const pad = Math.max(6, o.labelPx * 0.6);
  const gap = Math.max(4, o.labelPx * 0.35);
  const leaderRoom = o.labelPx * 1.5;
  const n = layout.clusters.length;
  const order = o.order ?? layout.clusters.map((_, k) => k);
  const texts = layout.clusters.map((_, k) => o.text(k));
  const widthOf = (lines: string[]) => Math.max(0, ...lines.map((l) => measure(l, o.labelPx))) + 2;

  // Columns as wide as the widest label on that side, capped so the graph keeps half the width.
  const side = layout.clusters.map((c) => (Math.cos(c.angle) >= 0 ? 1 : -1));
  let colR = 0;
  let colL = 0;
  for (let k = 0; k < n; k++) {
    const t = texts[k];
    if (!t) continue;
    if (side[k]! > 0) colR = Math.max(colR, widthOf(t));
    else colL = Math.max(colL, widthOf(t));
  }
  const col = Math.min(Math.max(colR, colL), o.width * 0.25);

  // Fit: discs (and the target label) in the middle, label columns either side.
  const [bx0, by0, bx1, by1] = layout.bounds;
  const tw = widthOf(o.targetLines);
  const availW = Math.max(10, o.width - 2 * (col + leaderRoom + pad));
  const availH = Math.max(10, o.height - 2 * pad);
  const scale = Math.max(1e-4, Math.min(availW / (bx1 - bx0), availH / (by1 - by0)));
  const target: [number, number] = [(bx0 + bx1) / 2, (by0 + by1) / 2];
  const sx = (x: number) => o.width / 2 + (x - target[0]) * scale;
  const sy = (y: number) => o.height / 2 - (y - target[1]) * scale;

  const discs: DiscBox[] = layout.clusters.map((c, k) => ({
    cluster: k,
    cx: sx(c.x),
    cy: sy(c.y),
    r: (c.r + 10) * scale,
  }));
  const ringL = Math.min(...discs.map((d) => d.cx - d.r), sx(bx0));
  const ringR = Math.max(...discs.map((d) => d.cx + d.r), sx(bx1));

  const labels: LabelBox[] = [];
  // Target label: under the target if the hole in the ring has room, else above it, else at the
  // top of the left label column (which then starts below it).
  const th = o.targetLines.length * lh;
  const tx = sx(0);
  const tr = Math.max(70 * scale, 6);
  const candidates = [
    { x0: tx - tw / 2, y0: sy(0) + tr + gap },
    { x0: tx - tw / 2, y0: sy(0) - tr - gap - th },
  ];
  let targetBox = candidates
    .map((c) => ({ ...c, x1: c.x0 + tw, y1: c.y0 + th }))
    .find((b) => !discs.some((d) => boxHitsDisc(b, d)) && b.y0 >= pad && b.y1 <= o.height - pad);
  let leftTop = pad;
  if (!targetBox) {
    const x0 = Math.max(pad, ringL - leaderRoom - Math.max(col, tw));
    targetBox = { x0, y0: pad, x1: x0 + tw, y1: pad + th };
    leftTop = pad + th + gap * 2;
  }
  labels.push({ cluster: -1, lines: o.targetLines, ...targetBox, align: 'middle' });

  for (const s of [1, -1]) {
    // Candidates on this side, in priority order; drop from the end until the column fits.
    const colTop = s > 0 ? pad : leftTop;
    let members = order.filter((k) => side[k] === s && texts[k]);
    const heights = (ks: number[]) => ks.reduce((a, k) => a + texts[k]!.length * lh + gap, 0);
    while (members.length > 0 && heights(members) > o.height - pad - colTop) members = members.slice(0, -1);
    const items = members
      .map((k) => ({ k, h: texts[k]!.length * lh, want: discs[k]!.cy }))
      .sort((a, b) => a.want - b.want);
    // Forward pass pushes down, backward pass keeps the column inside the panel.
    const top: number[] = [];
    let y = colTop;
    for (const it of items) {
      const t = Math.max(it.want - it.h / 2, y);
      top.push(t);
      y = t + it.h + gap;
    }
    let limit = o.height - pad;
    for (let i = items.length - 1; i >= 0; i--) {
      const it = items[i]!;
      if (top[i]! + it.h > limit) top[i] = limit - it.h;
      limit = top[i]! - gap;
    }
    items.forEach((it, i) => {
      const w = Math.min(widthOf(texts[it.k]!), col);
      const x0 = s > 0 ? ringR + leaderRoom : ringL - leaderRoom - w;
      const d = discs[it.k]!;
      const c = layout.clusters[it.k]!;
      const y0 = top[i]!;
      labels.push({
        cluster: it.k,
        lines: texts[it.k]!,
        x0,
        y0,
        x1: x0 + w,
        y1: y0 + it.h,
        align: s > 0 ? 'start' : 'end',
        leader: [
          d.cx + Math.cos(c.angle) * d.r,
          d.cy - Math.sin(c.angle) * d.r,
          s > 0 ? x0 - gap : x0 + w + gap,
          y0 + it.h / 2,
        ],
      });
    });
  }
  return { target, zoom: Math.log2(scale), scale, labels, discs };
}

/** Screen px → layout units for the placement's view (deck.gl y grows upward here). */
export function toLayout(p: LabelPlacement, width: number, height: number, x: number, y: number): [number, number] {
  return [p.target[0] + (x - width / 2) / p.scale, p.target[1] - (y - height / 2) / p.scale];
}
