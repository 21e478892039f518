/** How far behind its primary an instance is, for `cluster list-instances` (pure). */
import type { Resource } from "../api/index.ts";
import { pick, text } from "./fields.ts";

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

/** Bytes in the largest binary unit that keeps the number at least 1: `0 B`, `1.5 KiB`, `12 MiB`. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = unit === 0 || value >= 10 ? 0 : 1;
  return `${value.toFixed(digits)} ${UNITS[unit] ?? "B"}`;
}

/** The LAG cell: `-` for a primary or an instance outside replication, the lag of a replica and its link state when not streaming. */
export function lagCell(instance: Resource): string {
  if (pick(instance, "spec.replication") === undefined) return "";
  const role = text(instance, "status.role") || text(instance, "spec.role");
  if (role === "primary") return "-";
  const bytes = pick(instance, "status.replication.lagBytes");
  const state = text(instance, "status.replication.state");
  if (typeof bytes !== "number") return state === "" ? "unknown" : state;
  return state === "" || state === "streaming" ? formatBytes(bytes) : `${formatBytes(bytes)} (${state})`;
}
