import type { SimulatedSpan } from '@downstream/shared';
import { time } from '../../format.js';

/** Says which part of a history page is the demo's backfilled simulated history. */
export function SimulatedNote({ span }: { span?: SimulatedSpan }) {
  if (!span) return null;
  return (
    <p className="simulated-note" data-testid="simulated-note" role="note">
      <b>Simulated history:</b> data from {time(span.from)} to {time(span.to)} is the demo&apos;s backfilled history,
      not observed traffic (start the demo with <code>--no-history</code> to leave it out).
    </p>
  );
}
