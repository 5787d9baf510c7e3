import { MapView } from '@deck.gl/core';
import { ArcLayer, GeoJsonLayer, ScatterplotLayer } from '@deck.gl/layers';
import DeckGL from '@deck.gl/react';
import type { IncidentKind } from '@downstream/shared';
import { useMemo, useRef } from 'react';
import { KIND_RGB } from '../format.js';
import { ramp } from './color-scale.js';
import { useSize } from './use-size.js';
import { COUNTRIES, countryCentroid, numericId, type CountryFeature } from './world-geo.js';

/** Traffic from one source country toward the target location, for one kind. */
export interface SourceFlow {
  /** ISO alpha-2. */
  country: string;
  kind: IncidentKind;
  /** Any consistent weight: bytes, packets or a share. */
  weight: number;
}

export interface WorldMapProps {
  flows: readonly SourceFlow[];
  /** Where our network is drawn, [lon, lat]. */
  home: [number, number];
  onAfterRender?: () => void;
}

const noop = () => {};

interface Arc {
  from: [number, number];
  kind: IncidentKind;
  weight: number;
}

/**
 * Attack sources converging on us: countries shaded by how much they send, one arc per
 * (country, kind) to the home location, width by weight. No tiles: shapes come from world-atlas.
 */
export function WorldMap({ flows, home, onAfterRender }: WorldMapProps) {
  const ref = useRef<HTMLDivElement>(null);
  const { width, height } = useSize(ref);
  const { arcs, byCountry, max, maxArc } = useMemo(() => {
    const byCountry = new Map<string, number>();
    const byArc = new Map<string, Arc>();
    for (const f of flows) {
      const id = numericId(f.country);
      const c = countryCentroid(f.country);
      if (!id || !c) continue;
      byCountry.set(id, (byCountry.get(id) ?? 0) + f.weight);
      const key = `${id}:${f.kind}`;
      const a = byArc.get(key);
      if (a) a.weight += f.weight;
      else byArc.set(key, { from: c, kind: f.kind, weight: f.weight });
    }
    const arcs = [...byArc.values()].sort((a, b) => b.weight - a.weight).slice(0, 150);
    return {
      arcs,
      byCountry,
      max: Math.max(0, ...byCountry.values()),
      maxArc: Math.max(0, ...arcs.map((a) => a.weight)),
    };
  }, [flows]);

  const layers = [
    new GeoJsonLayer<CountryFeature['properties']>({
      id: 'countries',
      data: COUNTRIES as never,
      stroked: true,
      filled: true,
      getFillColor: (f) => {
        const v = byCountry.get(String((f as unknown as CountryFeature).id)) ?? 0;
        if (v <= 0) return [28, 38, 50, 255];
        // √ rather than log: a country list is a handful of similar values, log flattens them.
        const [r, g, b] = ramp(0.15 + 0.7 * Math.sqrt(v / max));
        return [r, g, b, 255];
      },
      getLineColor: [70, 90, 110, 255],
      lineWidthUnits: 'pixels',
      getLineWidth: 0.6,
      updateTriggers: { getFillColor: [byCountry, max] },
      // Russia, Fiji, Antarctica cross 180°: split them instead of smearing across the map.
      wrapLongitude: true,
    }),
    new ArcLayer<Arc>({
      id: 'arcs',
      data: arcs,
      getSourcePosition: (a) => a.from,
      getTargetPosition: () => home,
      getSourceColor: (a) => [...KIND_RGB[a.kind], 90] as [number, number, number, number],
      getTargetColor: (a) => [...KIND_RGB[a.kind], 255] as [number, number, number, number],
      getWidth: (a) => 1 + 9 * Math.sqrt(maxArc > 0 ? a.weight / maxArc : 0),
      widthUnits: 'pixels',
      getHeight: 0.5,
      greatCircle: false,
    }),
    new ScatterplotLayer({
      id: 'home',
      data: [home],
      getPosition: (d: [number, number]) => d,
      getRadius: 9,
      radiusUnits: 'pixels',
      getFillColor: [255, 255, 255, 255],
      stroked: true,
      getLineColor: [79, 195, 247, 255],
      lineWidthUnits: 'pixels',
      getLineWidth: 3,
    }),
  ];

  return (
    <div
      ref={ref}
      className="world-map"
      data-testid="world-map"
      data-arcs={arcs.length}
      data-countries={byCountry.size}
    >
      {width > 0 && (
        <DeckGL
          key={`${Math.round(width)}x${Math.round(height)}`}
          views={new MapView({ id: 'map', repeat: false })}
          // Fit 55°S–75°N (about half the Web Mercator square) into the panel.
          initialViewState={{
            longitude: 10,
            latitude: 20,
            zoom: Math.log2(Math.max(256, Math.min(width, height / 0.5)) / 512),
            minZoom: 0,
            maxZoom: 5,
            pitch: 0,
            bearing: 0,
          }}
          controller={false}
          layers={layers}
          onAfterRender={onAfterRender ?? noop}
        />
      )}
    </div>
  );
}
