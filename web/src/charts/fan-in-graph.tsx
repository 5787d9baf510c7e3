import { OrthographicView, type PickingInfo } from '@deck.gl/core';
import DeckGL, { type DeckGLRef } from '@deck.gl/react';
import { wordsToIp, type IncidentKind } from '@downstream/shared';
import { useCallback, useMemo, useRef, useState } from 'react';
import { KIND_RGB, pct, si } from '../format.js';
import { benchHook } from './bench-hook.js';
import { placeLabels } from './fan-in-labels.js';
import { FanInLayer, type FanInPick } from './fan-in-layer.js';
import { layoutFanIn, type FanInCluster, type GraphColumns } from './fan-in-layout.js';
import { useSize } from './use-size.js';

export interface FanInGraphProps {
  /** Sources as columns (a decoded `incident:graph` frame, or REST nodes converted). */
  graph: GraphColumns;
  /** Colours nodes and edges. */
  kind: IncidentKind;
  /** Shown at the centre, e.g. the target IP. */
  targetLabel: string;
  /** Names for cluster labels and tooltips; unknown ASNs show as "AS123". */
  asnNames?: ReadonlyMap<number, string>;
  /** Highlight one cluster and dim the rest; -1 is the merged "other" cluster. */
  selectedAsn?: number;
  /** Click on a cluster or one of its sources; undefined when clicking empty space. */
  onSelectAsn?: (asn: number | undefined) => void;
  /** Wall mode: no pan/zoom, no tooltip, larger labels. */
  wall?: boolean;
  /** Label font size in px; the wall scales it with the screen (default 12, target 14). */
  labelPx?: number;
  /** Most clusters drawn separately (default 32). */
  maxClusters?: number;
  /** Links the traffic enters by, biggest first: named under the target. */
  upstreams?: readonly { name: string; share: number }[];
  /** After each deck.gl frame; the benchmark counts frames with it. */
  onAfterRender?: () => void;
}

interface Hover {
  x: number;
  y: number;
  index?: number;
  cluster?: FanInCluster;
}

function countryOf(g: GraphColumns, i: number): string {
  if (!g.country) return '';
  const a = g.country[2 * i]!;
  return a ? String.fromCharCode(a, g.country[2 * i + 1]!) : '';
}

/**
 * The fan-in graph: every source as a point clustered by ASN around the target, one bundled
 * edge per cluster whose width is the cluster's share of traffic (see fan-in-layout.ts), drawn by
 * one FanInLayer (fan-in-layer.ts). This component owns the state: size, hover, selection, label
 * placement, the tooltip and the label boxes the e2e tests read.
 */
export function FanInGraph(props: FanInGraphProps) {
  const { graph, kind, asnNames, selectedAsn, onSelectAsn, wall = false, onAfterRender, labelPx = 12 } = props;
  const ref = useRef<HTMLDivElement>(null);
  const deckRef = useRef<DeckGLRef>(null);
  const { width, height } = useSize(ref);
  const [hover, setHover] = useState<Hover>();
  const layout = useMemo(() => layoutFanIn(graph, { maxClusters: props.maxClusters }), [graph, props.maxClusters]);
  const rgb = KIND_RGB[kind];
  const selectedCluster = selectedAsn === undefined ? -1 : layout.clusters.findIndex((c) => c.asn === selectedAsn);

  const colors = useMemo(() => {
    const out = new Uint8Array(4 * layout.count);
    let max = 0;
    for (let i = 0; i < layout.count; i++) max = Math.max(max, graph.pps[i]!);
    const logMax = Math.log1p(max) || 1;
    for (let i = 0; i < layout.count; i++) {
      const dim = selectedCluster >= 0 && layout.clusterOf[i] !== selectedCluster;
      const t = Math.log1p(graph.pps[i]!) / logMax;
      // Heavier senders brighter: mix the kind colour toward white with traffic.
      out[4 * i] = rgb[0] + (255 - rgb[0]) * t * 0.5;
      out[4 * i + 1] = rgb[1] + (255 - rgb[1]) * t * 0.5;
      out[4 * i + 2] = rgb[2] + (255 - rgb[2]) * t * 0.5;
      out[4 * i + 3] = dim ? 40 : 150 + 105 * t;
    }
    return out;
  }, [layout, graph, rgb, selectedCluster]);

  const name = useCallback((asn: number) => (asn < 0 ? 'other networks' : (asnNames?.get(asn) ?? '')), [asnNames]);

  // Labels in screen space (fan-in-labels.ts): the same boxes are drawn and exposed to tests.
  const upstreamKey = (props.upstreams ?? []).map((u) => `${u.name}|${u.share.toFixed(3)}`).join(',');
  const placement = useMemo(() => {
    if (width <= 0 || height <= 0) return undefined;
    const ctx = document.createElement('canvas').getContext('2d');
    const measure = (text: string, px: number) => {
      if (!ctx) return text.length * px * 0.62;
      ctx.font = `bold ${px}px DejaVu Sans, Liberation Sans, sans-serif`;
      // deck.gl's glyph atlas runs a little wider than the canvas metrics.
      return ctx.measureText(text).width * 1.08;
    };
    const order = layout.clusters
      .map((_, k) => k)
      .sort((a, b) => layout.clusters[b]!.share - layout.clusters[a]!.share);
    // Every disc gets a label where its side's column has room (placeLabels drops the smallest
    // first): a fixed cap left equal-sized discs unlabelled beside empty column space.
    const labelled = new Set(order);
    const up = (props.upstreams ?? []).filter((u) => u.share > 0).slice(0, 2);
    const p = placeLabels(layout, {
      width,
      height,
      labelPx,
      measure,
      order,
      text: (k) => {
        if (!labelled.has(k)) return undefined;
        const c = layout.clusters[k]!;
        const nm = name(c.asn).slice(0, 24);
        return [`${c.asn < 0 ? 'other' : `AS${c.asn}`} ${pct(c.share)}`, ...(nm ? [nm] : [])];
      },
      targetLines: [props.targetLabel, ...up.map((u) => `via ${u.name} ${pct(u.share)}`)].filter(Boolean),
    });
    // A view that only moves on visible changes: deck.gl resets pan/zoom whenever it changes.
    const view = {
      target: [Math.round(p.target[0]), Math.round(p.target[1]), 0] as [number, number, number],
      zoom: Math.round(p.zoom * 100) / 100,
    };
    const placed = {
      ...p,
      target: [view.target[0], view.target[1]] as [number, number],
      scale: 2 ** view.zoom,
      zoom: view.zoom,
    };
    const sx = (x: number) => width / 2 + (x - placed.target[0]) * placed.scale;
    const sy = (y: number) => height / 2 - (y - placed.target[1]) * placed.scale;
    placed.discs = layout.clusters.map((c, k) => ({
      cluster: k,
      cx: sx(c.x),
      cy: sy(c.y),
      r: (c.r + 10) * placed.scale,
    }));
    return placed;
  }, [layout, width, height, labelPx, name, props.targetLabel, upstreamKey]);

  const layers = useMemo(
    () => [
      new FanInLayer({
        id: 'fan-in',
        layout,
        sourceColors: colors,
        rgb,
        selectedCluster,
        wall,
        placement: placement ?? null,
        width,
        height,
        labelPx,
      }),
    ],
    [layout, colors, rgb, selectedCluster, wall, placement, width, height, labelPx],
  );

  const initialViewState = useMemo(
    () => ({
      target: [placement?.target[0] ?? 0, placement?.target[1] ?? 0, 0] as [number, number, number],
      zoom: placement?.zoom ?? -2,
      minZoom: -6,
      maxZoom: 6,
    }),
    [placement?.target[0], placement?.target[1], placement?.zoom],
  );

  const boxes = useMemo(
    () =>
      placement
        ? JSON.stringify({
            labels: placement.labels.map((l) => ({
              cluster: l.cluster,
              text: l.lines.join(' '),
              x0: Math.round(l.x0 * 10) / 10,
              y0: Math.round(l.y0 * 10) / 10,
              x1: Math.round(l.x1 * 10) / 10,
              y1: Math.round(l.y1 * 10) / 10,
            })),
            discs: placement.discs.map((d) => ({
              cluster: d.cluster,
              cx: Math.round(d.cx * 10) / 10,
              cy: Math.round(d.cy * 10) / 10,
              r: Math.round(d.r * 10) / 10,
            })),
          })
        : undefined,
    [placement],
  );

  // FanInLayer answers picks as a source row or a cluster (FanInPick)
  const onHover = (info: PickingInfo<FanInPick>) => {
    if (wall) return;
    const pick = info.object;
    if (pick && 'source' in pick) setHover({ x: info.x, y: info.y, index: pick.source });
    else if (pick && 'cluster' in pick) setHover({ x: info.x, y: info.y, cluster: pick.cluster });
    else setHover(undefined);
  };
  const onClick = (info: PickingInfo<FanInPick>) => {
    if (!onSelectAsn) return;
    const pick = info.object;
    let asn: number | undefined;
    if (pick && 'source' in pick) asn = layout.clusters[layout.clusterOf[pick.source]!]?.asn;
    else if (pick && 'cluster' in pick) asn = pick.cluster.asn;
    onSelectAsn(asn === selectedAsn ? undefined : asn);
  };

  let tooltip: React.ReactNode = null;
  if (hover?.index !== undefined && hover.index < layout.count) {
    const i = hover.index;
    const asn = graph.asn[i]!;
    const customer = graph.customer && graph.customer[i]! >= 0 ? graph.customers?.[graph.customer[i]!] : undefined;
    tooltip = (
      <>
        <div className="mono tt-title">{graph.ip ? wordsToIp(graph.ip, 4 * i) : `source #${i}`}</div>
        <div>
          AS{asn} {name(asn)}
        </div>
        <div>{countryOf(graph, i) || 'country unknown'}</div>
        {customer && <div>customer: {customer}</div>}
        <div>{si(graph.pps[i]!, 'pps')}</div>
      </>
    );
  } else if (hover?.cluster) {
    const c = hover.cluster;
    tooltip = (
      <>
        <div className="tt-title">
          {c.asn < 0 ? 'Other networks' : `AS${c.asn}`} {c.asn >= 0 && name(c.asn)}
        </div>
        <div>
          {c.count.toLocaleString('en-US')} sources · {si(c.pps, 'pps')} · {pct(c.share)}
        </div>
        {onSelectAsn && (
          <div className="sub">click to {c.asn === selectedAsn ? 'clear the filter' : 'filter to this network'}</div>
        )}
      </>
    );
  }

  return (
    <div
      ref={ref}
      className="fan-in-graph"
      data-testid="fan-in-graph"
      data-sources={layout.count}
      data-clusters={layout.clusters.length}
      data-label-boxes={boxes}
    >
      {width > 0 && (
        <DeckGL
          views={new OrthographicView({ id: 'graph', flipY: false })}
          initialViewState={initialViewState}
          controller={!wall}
          layers={layers}
          onHover={onHover}
          onClick={onClick}
          getCursor={({ isHovering }) => (isHovering ? 'pointer' : 'grab')}
          ref={deckRef}
          onAfterRender={() => {
            onAfterRender?.();
            const bench = benchHook();
            if (bench && layout.count > 0) {
              bench.deck = deckRef.current?.deck;
              bench.frames.push(performance.now());
            }
          }}
        />
      )}
      {tooltip && hover && (
        <div className="graph-tooltip" style={{ left: hover.x + 14, top: hover.y + 14 }} data-testid="graph-tooltip">
          {tooltip}
        </div>
      )}
    </div>
  );
}
