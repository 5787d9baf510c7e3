import { z } from 'zod';

/** `detect:` — detector thresholds. Each detector owns its block; all optional with sound defaults. */
export const DetectConfig = z
  .strictObject({
    fanIn: z
      .strictObject({
        /** Distinct sources toward one target within the window before it is a fan-in. */
        minSources: z.number().int().positive().default(500),
        /** Packets per second toward the target (after sampling scale-up). */
        minPps: z.number().positive().default(5000),
        /** Mean packet size at or below this (bytes) counts as "small packets". */
        maxMeanPacketSize: z.number().positive().default(200),
        windowSeconds: z.number().positive().default(10),
      })
      .prefault({}),
  })
  .prefault({});
export type DetectConfig = z.infer<typeof DetectConfig>;
