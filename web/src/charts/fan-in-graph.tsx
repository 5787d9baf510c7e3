import { OrthographicView, type PickingInfo } from '@deck.gl/core';
import { LineLayer, ScatterplotLayer, TextLayer } from '@deck.gl/layers';
import DeckGL, { type DeckGLRef } from '@deck.gl/react';
import { wordsToIp, type IncidentKind } from '@downstream/shared';
import { useCallback, useMemo, useRef, useState } from 'react';
import { KIND_RGB, pct, si } from '../format.js';
import { benchHook } from './bench-hook.js';
import { edgeWidth, layoutFanIn, type FanInCluster, type GraphColumns } from './fan-in-layout.js';
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
 * edge per cluster whose width is the cluster's share of traffic (see fan-in-layout.ts).
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

  const layers = useMemo(() => {
    const targetR = 70;
    const edges = layout.clusters.map((c, k) => ({
      from: [c.x - Math.cos(c.angle) * c.r, c.y - Math.sin(c.angle) * c.r],
      to: [Math.cos(c.angle) * targetR, Math.sin(c.angle) * targetR],
      width: edgeWidth(c.share, wall ? 40 : 28),
      k,
    }));
    // Labels only where they are readable: the biggest networks; the rest say who they are on hover.
    const labelled = [...layout.clusters]
      .sort((a, b) => b.share - a.share)
      .filter((c, rank) => rank < (wall ? 20 : 14) && (c.share >= 0.015 || rank < 6));
    return [
      new LineLayer<(typeof edges)[number]>({
        id: 'edges',
        data: edges,
        getSourcePosition: (d) => d.from as [number, number],
        getTargetPosition: (d) => d.to as [number, number],
        getWidth: (d) => d.width,
        widthUnits: 'pixels',
        getColor: (d) =>
          [...rgb, selectedCluster >= 0 && d.k !== selectedCluster ? 30 : 110] as [number, number, number, number],
        updateTriggers: { getColor: [selectedCluster, kind] },
      }),
      new ScatterplotLayer<FanInCluster>({
        id: 'clusters',
        data: layout.clusters,
        getPosition: (c) => [c.x, c.y],
        getRadius: (c) => c.r + 10,
        radiusUnits: 'common',
        stroked: true,
        filled: true,
        getFillColor: (_c, { index }) => (index === selectedCluster ? [255, 255, 255, 22] : [255, 255, 255, 8]),
        getLineColor: (_c, { index }) => (index === selectedCluster ? [255, 255, 255, 200] : [120, 140, 160, 90]),
        lineWidthUnits: 'pixels',
        getLineWidth: (_c, { index }) => (index === selectedCluster ? 2 : 1),
        pickable: !wall,
        autoHighlight: !wall,
        highlightColor: [255, 255, 255, 25],
        updateTriggers: { getFillColor: selectedCluster, getLineColor: selectedCluster, getLineWidth: selectedCluster },
      }),
      new ScatterplotLayer({
        id: 'sources',
        data: {
          length: layout.count,
          attributes: {
            getPosition: { value: layout.positions, size: 2 },
            getRadius: { value: layout.radii, size: 1 },
            getFillColor: { value: colors, size: 4, normalized: true },
          },
        },
        radiusUnits: 'common',
        radiusMinPixels: 0.8,
        pickable: !wall,
      }),
      new ScatterplotLayer({
        id: 'target',
        data: [0],
        getPosition: () => [0, 0],
        getRadius: targetR,
        radiusUnits: 'common',
        radiusMinPixels: 6,
        getFillColor: [...rgb, 255] as [number, number, number, number],
        stroked: true,
        getLineColor: [255, 255, 255, 255],
        lineWidthUnits: 'pixels',
        getLineWidth: 2,
      }),
      new TextLayer<FanInCluster>({
        id: 'labels',
        data: labelled,
        characterSet: 'auto',
        getPosition: (c) => {
          const d = Math.hypot(c.x, c.y) + c.r + 40;
          return [Math.cos(c.angle) * d, Math.sin(c.angle) * d];
        },
        getText: (c) => `${c.asn < 0 ? 'other' : `AS${c.asn}`} ${pct(c.share)}\n${name(c.asn).slice(0, 24)}`,
        getTextAnchor: (c) => (Math.cos(c.angle) > 0.3 ? 'start' : Math.cos(c.angle) < -0.3 ? 'end' : 'middle'),
        // y grows upward (flipY: false): above the ring the text stands on its anchor.
        getAlignmentBaseline: (c) => (Math.sin(c.angle) > 0.3 ? 'bottom' : Math.sin(c.angle) < -0.3 ? 'top' : 'center'),
        getSize: labelPx,
        getColor: [215, 225, 234, 230],
        fontFamily: 'DejaVu Sans, Liberation Sans, sans-serif',
        lineHeight: 1.15,
      }),
      new TextLayer({
        id: 'target-label',
        data: [props.targetLabel],
        // y grows upward here: the label hangs below the target.
        getPosition: () => [0, -110],
        getText: (d: string) => d,
        getSize: Math.round(labelPx * 1.2),
        getColor: [255, 255, 255, 255],
        getTextAnchor: 'middle',
        getAlignmentBaseline: 'top',
        fontFamily: 'DejaVu Sans Mono, monospace',
        fontWeight: 700,
      }),
    ];
  }, [layout, colors, rgb, selectedCluster, kind, wall, name, props.targetLabel, labelPx]);

  const [x0, y0, x1, y1] = layout.bounds;
  const initialViewState = useMemo(
    () => ({
      target: [(x0 + x1) / 2, (y0 + y1) / 2, 0] as [number, number, number],
      zoom: width > 0 && height > 0 ? Math.log2(Math.min(width / (x1 - x0), height / (y1 - y0)) * 0.95) : -2,
      minZoom: -6,
      maxZoom: 6,
    }),
    // Re-fit when the panel is resized or the graph's shape changes noticeably.
    [width, height, Math.round(x0 / 100), Math.round(y0 / 100), Math.round(x1 / 100), Math.round(y1 / 100)],
  );

  const onHover = (info: PickingInfo) => {
    if (wall) return;
    if (info.layer?.id === 'sources' && info.index >= 0) setHover({ x: info.x, y: info.y, index: info.index });
    else if (info.layer?.id === 'clusters' && info.object)
      setHover({ x: info.x, y: info.y, cluster: info.object as FanInCluster });
    else setHover(undefined);
  };
  const onClick = (info: PickingInfo) => {
    if (!onSelectAsn) return;
    let asn: number | undefined;
    if (info.layer?.id === 'sources' && info.index >= 0) asn = layout.clusters[layout.clusterOf[info.index]!]?.asn;
    else if (info.layer?.id === 'clusters' && info.object) asn = (info.object as FanInCluster).asn;
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
