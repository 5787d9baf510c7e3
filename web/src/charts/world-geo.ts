import { geoCentroid } from 'd3-geo';
import type { Feature, FeatureCollection, Geometry } from 'geojson';
import countries from 'i18n-iso-countries';
import { feature } from 'topojson-client';
import world from 'world-atlas/countries-110m.json';

export type CountryFeature = Feature<Geometry, { name: string }> & { id?: string | number };

/** Country shapes (Natural Earth 1:110m via world-atlas): no tile server, works offline. */
type Topo = Parameters<typeof feature>[0];
type TopoObject = Parameters<typeof feature>[1];
const topo = world as unknown as Topo & { objects: Record<string, TopoObject> };
export const COUNTRIES: CountryFeature[] = (
  feature(topo, topo.objects.countries!) as unknown as FeatureCollection<Geometry, { name: string }>
).features as CountryFeature[];

const centroids = new Map<string, [number, number]>();
for (const f of COUNTRIES) if (f.id !== undefined) centroids.set(String(f.id), geoCentroid(f) as [number, number]);

/** ISO alpha-2 (what the ASN data set gives) → world-atlas numeric id, e.g. "DE" → "276". */
export function numericId(alpha2: string): string | undefined {
  return countries.alpha2ToNumeric(alpha2.toUpperCase());
}

/** [lon, lat] of a country's centroid, or undefined for unknown / tiny countries. */
export function countryCentroid(alpha2: string): [number, number] | undefined {
  const id = numericId(alpha2);
  return id ? centroids.get(id) : undefined;
}
