/** KubeBlocks' retention periods: `7d`, `12h`, `30m`, `2y`, `6mo`, `3w`, and sums such as `1y2mo3w4d5h6m`. */
import { z } from "zod";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
// KubeBlocks counts a month as 30 days and a year as 365 days.
const UNIT_MS: Record<string, number> = { y: 365 * DAY_MS, mo: 30 * DAY_MS, w: 7 * DAY_MS, d: DAY_MS, h: HOUR_MS, m: 60_000 };
const ORDER = ["y", "mo", "w", "d", "h", "m"];

/** The length of a retention period in milliseconds; undefined when `text` is not one (or is zero). */
export function retentionPeriodMs(text: string): number | undefined {
  const trimmed = text.trim();
  const part = /([0-9]+)(mo|y|w|d|h|m)/giy;
  let total = 0;
  let lastUnit = -1;
  let consumed = 0;
  for (let match = part.exec(trimmed); match !== null; match = part.exec(trimmed)) {
    const unit = ORDER.indexOf((match[2] ?? "").toLowerCase());
    // Units come largest first, each at most once, as KubeBlocks writes them.
    if (unit <= lastUnit) return undefined;
    lastUnit = unit;
    total += Number(match[1]) * (UNIT_MS[ORDER[unit] ?? ""] ?? 0);
    consumed = part.lastIndex;
  }
  return consumed === trimmed.length && total > 0 ? total : undefined;
}

/** A retention period as KubeBlocks writes it. */
export const retentionPeriodSchema = z
  .string()
  .refine((text) => retentionPeriodMs(text) !== undefined, "must be a retention period such as 7d, 12h, 6mo, 1y or 1y2mo3w4d5h6m (units y, mo, w, d, h, m, in that order)");

/** When something created at `from` with this retention period expires (RFC 3339), or undefined when it is kept forever. */
export function expirationOf(from: string, period: string | undefined): string | undefined {
  if (period === undefined || period === "") return undefined;
  const ms = retentionPeriodMs(period);
  return ms === undefined ? undefined : new Date(Date.parse(from) + ms).toISOString();
}
