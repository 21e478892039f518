/** Long durations the security commands take: token lifetimes (`30d`, `1y`) and audit windows (`--since 2h`). */
import { UsageError } from "./args.ts";

const SECOND = 1000;
const UNIT_MS: Record<string, number> = {
  s: SECOND,
  m: 60 * SECOND,
  h: 3600 * SECOND,
  d: 86_400 * SECOND,
  w: 7 * 86_400 * SECOND,
  y: 365 * 86_400 * SECOND,
};

/** Parse `90m`, `12h`, `30d`, `2w`, `1y` or a sum such as `1d12h`, in milliseconds; undefined when it is not one. */
export function parseSpan(text: string): number | undefined {
  const part = /([0-9]+)([smhdwy])/gy;
  let total = 0;
  let consumed = 0;
  for (let match = part.exec(text); match !== null; match = part.exec(text)) {
    total += Number(match[1]) * (UNIT_MS[match[2] ?? ""] ?? 0);
    consumed = part.lastIndex;
  }
  return consumed > 0 && consumed === text.length ? total : undefined;
}

/** A token lifetime in whole seconds, from `--expires`; usage errors say what to write. */
export function lifetimeSeconds(text: string, command: string): number {
  const ms = parseSpan(text);
  if (ms === undefined) {
    throw new UsageError(`invalid --expires "${text}": use a number with a unit, such as 90m, 12h, 30d or 1y (units s, m, h, d, w, y)`, command);
  }
  const seconds = Math.floor(ms / SECOND);
  if (seconds < 1) throw new UsageError(`--expires must be at least 1s, got "${text}"`, command);
  return seconds;
}

// RFC 3339: a date and a time, then a zone (Z or an offset); Date.parse checks the rest (fractions of a second).
const DATE_TIME = /^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}/;
const ZONE = /(?:[Zz]|[+-][0-9]{2}:[0-9]{2})$/;

/** `--since` as an RFC 3339 instant: a duration counts back from `now`, a time is taken as it is. */
export function sinceInstant(text: string, now: Date, command: string): string {
  const ms = parseSpan(text);
  if (ms !== undefined) return new Date(now.getTime() - ms).toISOString();
  const time = DATE_TIME.test(text) && ZONE.test(text) ? Date.parse(text.replace(" ", "T")) : Number.NaN;
  if (Number.isNaN(time)) {
    throw new UsageError(`invalid --since "${text}": use a duration such as 10m, 2h or 7d, or an RFC 3339 time such as 2025-06-01T12:00:00Z`, command);
  }
  return new Date(time).toISOString();
}
