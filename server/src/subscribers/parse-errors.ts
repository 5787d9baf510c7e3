/** A problem in one line of an imported file; the rest of the file is still imported. */
export interface LineError {
  file: string;
  line: number;
  message: string;
}

export const describeLineError = (e: LineError): string => `${e.file}:${e.line}: ${e.message}`;

/** What a line-fed parser hands on: a record (with the line it started on) or an error. */
export interface ParseSink<T> {
  record(value: T, line: number): void;
  error(e: LineError): void;
}

/** Collects everything, for parsing a whole file at once (tests, one-shot imports). */
export function collect<T>(): ParseSink<T> & { records: { value: T; line: number }[]; errors: LineError[] } {
  const records: { value: T; line: number }[] = [];
  const errors: LineError[] = [];
  return { records, errors, record: (value, line) => records.push({ value, line }), error: (e) => errors.push(e) };
}
