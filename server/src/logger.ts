import { pino, type Logger } from 'pino';

/** Structured JSON logs on stderr, so stdout stays free for CLI output. */
export function createLogger(level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { app: 'downstream' } }, pino.destination(2));
}
