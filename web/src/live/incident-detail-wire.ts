import { IncidentDetail } from '@downstream/shared';
import { z } from 'zod';

/**
 * The detail as fetched: everything validated by the shared schema except the graph nodes,
 * which can number 50,000 and are checked node by node while being turned into columns
 * (charts/graph-columns.ts).
 */
export const IncidentDetailWire = IncidentDetail.extend({ graph: z.object({ nodes: z.array(z.unknown()) }) });
export type IncidentDetailWire = z.infer<typeof IncidentDetailWire>;
