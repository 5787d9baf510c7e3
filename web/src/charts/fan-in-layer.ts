import {
  CompositeLayer,
  type DefaultProps,
  type GetPickingInfoParams,
  type Layer,
  type PickingInfo,
} from '@deck.gl/core';
import { LineLayer, ScatterplotLayer, TextLayer } from '@deck.gl/layers';
import { type LabelBox, type LabelPlacement, toLayout } from './fan-in-labels.js';
import { edgeWidth, type FanInCluster, type FanInLayout } from './fan-in-layout.js';

type Rgb = readonly [number, number, number];

/** What the fan-in graph draws, in layout units (fan-in-layout.ts) and screen-placed labels (fan-in-labels.ts). */
export interface FanInLayerProps {
  /** Sources clustered by ASN around the target at (0, 0): positions, radii, clusters. */
  layout: FanInLayout;
  /** RGBA per source, 4 bytes each (brightness by traffic, dimmed outside the selected cluster). */
  sourceColors: Uint8Array;
  /** The incident kind's colour: edges and the target. */
  rgb: Rgb;
  /** Index in `layout.clusters` of the highlighted cluster, or -1 for none. */
  selectedCluster: number;
  /** Wall mode: nothing is pickable, edges are wider. */
  wall: boolean;
  /** Label boxes placed for a `width` × `height` canvas, or null before the canvas has a size. */
  placement: LabelPlacement | null;
  /** Canvas size in px that `placement` was computed for. */
  width: number;
  height: number;
  /** Label font size in px. */
  labelPx: number;
  /** Radius of the target disc, in layout units; edges end on it. */
  targetRadius: number;
  /** Widest edge in px (the cluster with all the traffic); wall mode uses `wallEdgePx`. */
  edgePx: number;
  wallEdgePx: number;
  /** Label typeface (deck.gl's glyph atlas; fan-in-graph.tsx measures with the same). */
  fontFamily: string;
}

/** What a pick on the graph hit: one source (its row in the graph columns) or a whole cluster. */
export type FanInPick = { source: number } | { cluster: FanInCluster } | undefined;

const EMPTY_LAYOUT: FanInLayout = {
  count: 0,
  positions: new Float32Array(0),
  radii: new Float32Array(0),
  clusterOf: new Uint16Array(0),
  clusters: [],
  extent: 0,
  bounds: [0, 0, 0, 0],
  totalPps: 0,
};

/**
 * The fan-in graph as one deck.gl layer: bundled edges (width = the cluster's share of the
 * traffic), cluster discs, every source as a point, the target, and the labels with their leader
 * lines. One layer rather than seven in the view, so that the view only owns state (hover,
 * selection, label placement) and picking answers in the graph's own terms (`FanInPick`).
 */
export class FanInLayer extends CompositeLayer<FanInLayerProps> {
  static override layerName = 'FanInLayer';

  static override defaultProps: DefaultProps<FanInLayerProps> = {
    layout: { type: 'object', value: EMPTY_LAYOUT, compare: false },
    sourceColors: { type: 'object', value: new Uint8Array(0), compare: false },
    rgb: { type: 'color', value: [120, 140, 160] },
    selectedCluster: -1,
    wall: false,
    placement: { type: 'object', value: null, compare: false },
    width: 0,
    height: 0,
    labelPx: 12,
    targetRadius: 70,
    edgePx: 28,
    wallEdgePx: 40,
    fontFamily: 'DejaVu Sans, Liberation Sans, sans-serif',
  };

  /** Which part of the graph a pick hit (the sub-layer ids are this layer's id plus -sources / -clusters). */
  override getPickingInfo({ info, sourceLayer }: GetPickingInfoParams): PickingInfo<FanInPick> {
    const part = sourceLayer?.id.slice(this.id.length + 1);
    let pick: FanInPick;
    if (part === 'sources' && info.index >= 0) pick = { source: info.index };
    else if (part === 'clusters' && info.object) pick = { cluster: info.object as FanInCluster };
    return { ...info, object: pick };
  }

  override renderLayers(): Layer[] {
    const { layout, sourceColors, rgb, selectedCluster, wall, placement, width, height, labelPx, fontFamily } =
      this.props;
    const targetR = this.props.targetRadius;
    const maxPx = wall ? this.props.wallEdgePx : this.props.edgePx;
    const edges = layout.clusters.map((c, k) => ({
      from: [c.x - Math.cos(c.angle) * c.r, c.y - Math.sin(c.angle) * c.r] as [number, number],
      to: [Math.cos(c.angle) * targetR, Math.sin(c.angle) * targetR] as [number, number],
      width: edgeWidth(c.share, maxPx),
      k,
    }));
    const at = (x: number, y: number): [number, number] => toLayout(placement!, width, height, x, y);
    const text = {
      characterSet: 'auto' as const,
      getText: (l: LabelBox) => l.lines.join('\n'),
      getAlignmentBaseline: 'top' as const,
      getSize: labelPx,
      fontFamily,
      fontWeight: 700,
      lineHeight: 1.15,
    };
    return [
      new LineLayer<(typeof edges)[number]>(
        this.getSubLayerProps({
          id: 'edges',
          data: edges,
          getSourcePosition: (d: (typeof edges)[number]) => d.from,
          getTargetPosition: (d: (typeof edges)[number]) => d.to,
          getWidth: (d: (typeof edges)[number]) => d.width,
          widthUnits: 'pixels',
          getColor: (d: (typeof edges)[number]) =>
            [...rgb, selectedCluster >= 0 && d.k !== selectedCluster ? 30 : 110] as [number, number, number, number],
          updateTriggers: { getColor: [selectedCluster, ...rgb] },
        }),
      ),
      new ScatterplotLayer<FanInCluster>(
        this.getSubLayerProps({
          id: 'clusters',
          data: layout.clusters,
          getPosition: (c: FanInCluster) => [c.x, c.y],
          getRadius: (c: FanInCluster) => c.r + 10,
          radiusUnits: 'common',
          stroked: true,
          filled: true,
          getFillColor: (_c: FanInCluster, { index }: { index: number }) =>
            index === selectedCluster ? [255, 255, 255, 22] : [255, 255, 255, 8],
          getLineColor: (_c: FanInCluster, { index }: { index: number }) =>
            index === selectedCluster ? [255, 255, 255, 200] : [120, 140, 160, 90],
          lineWidthUnits: 'pixels',
          getLineWidth: (_c: FanInCluster, { index }: { index: number }) => (index === selectedCluster ? 2 : 1),
          pickable: !wall,
          autoHighlight: !wall,
          highlightColor: [255, 255, 255, 25],
          updateTriggers: {
            getFillColor: selectedCluster,
            getLineColor: selectedCluster,
            getLineWidth: selectedCluster,
          },
        }),
      ),
      new ScatterplotLayer(
        this.getSubLayerProps({
          id: 'sources',
          data: {
            length: layout.count,
            attributes: {
              getPosition: { value: layout.positions, size: 2 },
              getRadius: { value: layout.radii, size: 1 },
              getFillColor: { value: sourceColors, size: 4, normalized: true },
            },
          },
          radiusUnits: 'common',
          radiusMinPixels: 0.8,
          pickable: !wall,
        }),
      ),
      new ScatterplotLayer(
        this.getSubLayerProps({
          id: 'target',
          data: [0],
          getPosition: () => [0, 0],
          getRadius: targetR,
          radiusUnits: 'common',
          radiusMinPixels: 6,
          getFillColor: [...rgb, 255],
          stroked: true,
          getLineColor: [255, 255, 255, 255],
          lineWidthUnits: 'pixels',
          getLineWidth: 2,
        }),
      ),
      new LineLayer<LabelBox>(
        this.getSubLayerProps({
          id: 'leaders',
          data: placement ? placement.labels.filter((l) => l.leader) : [],
          getSourcePosition: (l: LabelBox) => at(l.leader![0], l.leader![1]),
          getTargetPosition: (l: LabelBox) => at(l.leader![2], l.leader![3]),
          getWidth: 1,
          widthUnits: 'pixels',
          getColor: [150, 170, 190, 140],
        }),
      ),
      new TextLayer<LabelBox>(
        this.getSubLayerProps({
          ...text,
          id: 'labels',
          data: placement ? placement.labels.filter((l) => l.cluster >= 0) : [],
          getPosition: (l: LabelBox) => at(l.align === 'end' ? l.x1 : l.x0, l.y0),
          getTextAnchor: (l: LabelBox) => l.align,
          getColor: [215, 225, 234, 235],
        }),
      ),
      new TextLayer<LabelBox>(
        this.getSubLayerProps({
          ...text,
          id: 'target-label',
          data: placement ? placement.labels.filter((l) => l.cluster < 0) : [],
          getPosition: (l: LabelBox) => at((l.x0 + l.x1) / 2, l.y0),
          getColor: [255, 255, 255, 255],
          getTextAnchor: 'middle',
        }),
      ),
    ];
  }
}
