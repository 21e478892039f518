/** Structured logging with secrets redacted by path, whatever a caller passes. */
import { pino, type Logger } from "pino";

export type { Logger };

/** Paths that may carry secrets; their values never reach a log line. */
export const REDACTED_PATHS = [
  "password",
  "*.password",
  "*.*.password",
  "data",
  "*.data",
  "stringData",
  "*.stringData",
  "token",
  "*.token",
  "authorization",
  "*.authorization",
  "headers.authorization",
];

/** Create the root logger. Constructed once at start-up and handed down. */
export function createLogger(options: { level?: string; destination?: NodeJS.WritableStream & { write(msg: string): void } } = {}): Logger {
  return pino(
    { level: options.level ?? "info", redact: { paths: REDACTED_PATHS, censor: "[REDACTED]" }, base: null },
    options.destination ?? process.stderr,
  );
}

/** A logger that writes nothing, for tests. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
