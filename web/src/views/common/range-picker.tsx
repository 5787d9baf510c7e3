import { useState } from 'react';
import { useSearchParams } from 'react-router';
import { RANGES, type RangeKey } from './ranges.js';
import { withTimeRange, type TimeRange } from './time-range.js';

export interface TimePickerProps {
  range: TimeRange;
  options: readonly RangeKey[];
}

const toInput = (t: number) => new Date(t).toISOString().slice(0, 16);
const fromInput = (v: string) => (v ? Date.parse(`${v}:00Z`) : NaN);

/**
 * The one time picker of every history page: presets and an absolute from/to (UTC), all in the
 * URL (`range`, or `from`/`to`) so a view is a link; filters in the URL are kept.
 */
export function TimePicker({ range, options }: TimePickerProps) {
  const [params, setParams] = useSearchParams();
  const [from, setFrom] = useState(toInput(range.from));
  const [to, setTo] = useState(toInput(range.to ?? Date.now()));
  // The fields follow a change of preset or of absolute range, not a preset's `from` moving with
  // the clock (each minute), which would wipe what an operator is typing. Reset during render,
  // not in an effect: an effect ran after the new preset was already on screen, and could wipe
  // a value typed in between.
  const anchor = range.key ?? `${range.from}-${range.to ?? ''}`;
  const [anchorSeen, setAnchorSeen] = useState(anchor);
  if (anchor !== anchorSeen) {
    setAnchorSeen(anchor);
    setFrom(toInput(range.from));
    setTo(toInput(range.to ?? Date.now()));
  }
  const f = fromInput(from);
  const t = fromInput(to);
  const valid = Number.isFinite(f) && Number.isFinite(t) && t > f;
  return (
    <div className="time-picker" data-testid="time-picker">
      <div className="segmented" role="group" aria-label="Time range" data-testid="range-picker">
        {options.map((k) => (
          <button
            key={k}
            type="button"
            className={k === range.key ? 'on' : undefined}
            aria-pressed={k === range.key}
            onClick={() => setParams(withTimeRange(params, k), { replace: true })}
            title={RANGES[k].label}
          >
            {k}
          </button>
        ))}
      </div>
      <form
        className="time-custom"
        onSubmit={(e) => {
          e.preventDefault();
          if (valid) setParams(withTimeRange(params, { from: f, to: t }), { replace: true });
        }}
      >
        <label>
          from
          <input type="datetime-local" value={from} onChange={(e) => setFrom(e.target.value)} data-testid="time-from" />
        </label>
        <label>
          to
          <input type="datetime-local" value={to} onChange={(e) => setTo(e.target.value)} data-testid="time-to" />
        </label>
        <span className="sub">UTC</span>
        <button type="submit" disabled={!valid} className={range.key ? undefined : 'on'} data-testid="time-apply">
          Apply
        </button>
      </form>
    </div>
  );
}
