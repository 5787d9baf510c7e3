import { RANGES, type RangeKey } from './ranges.js';

export interface RangePickerProps {
  value: RangeKey;
  options: readonly RangeKey[];
  onChange: (r: RangeKey) => void;
}

/** Segmented buttons for the history range; the choice lives in the URL (deep links). */
export function RangePicker({ value, options, onChange }: RangePickerProps) {
  return (
    <div className="segmented" role="group" aria-label="Time range" data-testid="range-picker">
      {options.map((k) => (
        <button
          key={k}
          type="button"
          className={k === value ? 'on' : undefined}
          aria-pressed={k === value}
          onClick={() => onChange(k)}
          title={RANGES[k].label}
        >
          {k}
        </button>
      ))}
    </div>
  );
}
