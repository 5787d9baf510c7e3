import { OrthographicView } from '@deck.gl/core';
import { ScatterplotLayer } from '@deck.gl/layers';
import DeckGL, { type DeckGLRef } from '@deck.gl/react';
import { IncidentDetail } from '@downstream/shared';
import { useMemo, useRef } from 'react';
import { useParams, useSearchParams } from 'react-router';
import { benchHook } from '../../charts/bench-hook.js';
import { layoutFanIn } from '../../charts/fan-in-layout.js';
import { columnsFromNodes } from '../../charts/graph-columns.js';
import { useApi } from '../../live/use-api.js';

/**
 * `/bench/scatter/:id?w=&h=`: the baseline of the web benchmark — the same incident's sources
 * at the same positions, as one bare ScatterplotLayer and nothing else. Not linked from the UI.
 */
export function BenchScatterView() {
  const { id = '' } = useParams();
  const [params] = useSearchParams();
  const width = Number(params.get('w') ?? 1200);
  const height = Number(params.get('h') ?? 520);
  const { data, error } = useApi(`/api/incidents/${encodeURIComponent(id)}`, IncidentDetail);
  const ref = useRef<DeckGLRef>(null);
  const layout = useMemo(() => (data ? layoutFanIn(columnsFromNodes(data.graph.nodes)) : undefined), [data]);
  if (!layout) return <p className="empty">{error ?? 'Loading…'}</p>;
  const layer = new ScatterplotLayer({
    id: 'bare',
    data: {
      length: layout.count,
      attributes: { getPosition: { value: layout.positions, size: 2 }, getRadius: { value: layout.radii, size: 1 } },
    },
    getFillColor: [255, 82, 82, 220],
    radiusUnits: 'common',
    radiusMinPixels: 0.8,
  });
  return (
    <div style={{ position: 'relative', width, height }} data-testid="bench-scatter" data-sources={layout.count}>
      <DeckGL
        ref={ref}
        width={width}
        height={height}
        views={new OrthographicView({ id: 'bare', flipY: false })}
        initialViewState={{ target: [0, 0, 0], zoom: Math.log2(Math.min(width, height) / (2 * layout.extent)) }}
        layers={[layer]}
        onAfterRender={() => {
          const bench = benchHook();
          if (bench) {
            bench.deck = ref.current?.deck;
            bench.frames.push(performance.now());
          }
        }}
      />
    </div>
  );
}
