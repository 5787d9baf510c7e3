import { z } from 'zod';
import { Direction, Evidence, IncidentKind, LinkShare, Peak, Sources, Target, Timestamp } from './incident.js';

/**
 * What a built-in detector or a feed says at one moment. The incident manager merges these
 * into incidents; a detector never creates or edits an incident itself.
 */
export const DetectionEvent = z.object({
  /** Detector or feed name: "fan-in", "volumetric", "fastnetmon", "suricata", … */
  detector: z.string().min(1),
  kind: IncidentKind,
  direction: Direction,
  at: Timestamp,
  /**
   * What the detection is about: the target IP for inbound kinds, the outside victim for
   * ddos-participation, the customer endpoint for spam-bot / scanner. The incident manager
   * merges on it (`mergeKeyOf` in server/src/incidents/manager.ts): inbound detections of any
   * kind (amplification, ddos-fan-in, volumetric, external) on one key share one incident;
   * spam-bot / scanner endpoints of one customer form one campaign; otherwise kind + key.
   */
  key: z.string().min(1),
  target: Target.optional(),
  sources: Sources,
  upstreams: z.array(LinkShare).default([]),
  /** Rates over the detector's window at this moment. */
  rate: Peak,
  evidence: Evidence.default({}),
});
export type DetectionEvent = z.infer<typeof DetectionEvent>;
