/**
 * What the node agent does with one measurement of an instance's storage (ADR 0048), decided without I/O: the status
 * to report (and whether it is worth a write), whether to turn the engine's write protection on or off, and the event.
 */
import { bytesAsQuantity, storageLevel, type InstanceStorageStatus, type StorageLevel } from "../api/index.ts";

/** One measurement. */
export interface StorageMeasurement {
  usedBytes: number;
  freeBytes: number;
  quotaBytes: number | undefined;
  at: string;
}

export interface StorageEvent {
  type: "Normal" | "Warning";
  reason: string;
  message: string;
}

export interface StorageDecision {
  /** The status once the protection (if any) is applied. */
  status: InstanceStorageStatus;
  /** Is the change worth a status write? */
  write: boolean;
  /** Turn the engine's write protection on (true) or off (false); absent: leave it. */
  protect?: boolean;
  /** The events of the change of level, in order (none when the level stays). */
  events: StorageEvent[];
}

/** A status older than this is rewritten even when nothing moved, so readers see the measurement is alive. */
const REFRESH_MS = 60_000;
/** A change smaller than this (or 1% of the quota) is not worth a write. */
const MIN_CHANGE_BYTES = 1 << 20;

function usage(m: StorageMeasurement): string {
  return m.quotaBytes === undefined ? bytesAsQuantity(m.usedBytes) : `${bytesAsQuantity(m.usedBytes)} of its ${bytesAsQuantity(m.quotaBytes)} quota (${Math.floor((m.usedBytes / Math.max(1, m.quotaBytes)) * 100)}%)`;
}

const EXPAND = "expand the volume with a VolumeExpansion OpsRequest or delete data";

/** The events of a change of level: a jump from Ok to Full between two measurements passes 90% too, and says so first. */
export function storageEvents(from: StorageLevel, to: StorageLevel, m: StorageMeasurement, canProtect: boolean): StorageEvent[] {
  if (from === to) return [];
  const nearly: StorageEvent = { type: "Warning", reason: "StorageNearlyFull", message: `storage at ${usage(m)}; writes are refused at 100%; ${EXPAND}` };
  if (to === "Full") {
    const action = canProtect ? "writes that would grow the data are refused" : "this engine cannot refuse writes: the data may keep growing";
    const full: StorageEvent = { type: "Warning", reason: "StorageFull", message: `storage quota reached: ${usage(m)}; ${action}; ${EXPAND}` };
    return from === "Ok" ? [nearly, full] : [full];
  }
  if (to === "NearlyFull" && from === "Ok") return [nearly];
  const allowed = from === "Full" && canProtect ? "; writes allowed again" : "";
  return [{ type: "Normal", reason: to === "Ok" ? "StorageRecovered" : "StorageBelowQuota", message: `storage at ${usage(m)}${allowed}` }];
}

function worthWriting(previous: InstanceStorageStatus | undefined, next: InstanceStorageStatus, m: StorageMeasurement): boolean {
  if (previous === undefined || previous.level !== next.level || previous.quotaBytes !== next.quotaBytes || previous.writesRefusedFor !== next.writesRefusedFor) return true;
  const step = Math.max(MIN_CHANGE_BYTES, (m.quotaBytes ?? 0) / 100);
  if (Math.abs(previous.usedBytes - next.usedBytes) >= step || Math.abs(previous.freeBytes - next.freeBytes) >= step * 16) return true;
  return Date.parse(m.at) - Date.parse(previous.measuredAt) >= REFRESH_MS;
}

/**
 * Decide from `previous` (status.storage), a new measurement, the start of the running process (the protection is
 * re-applied after each start: a restarted server may start without it) and whether the engine can protect writes.
 */
export function decideStorage(previous: InstanceStorageStatus | undefined, m: StorageMeasurement, processStart: string, canProtect: boolean): StorageDecision {
  const level = storageLevel(m.usedBytes, m.quotaBytes);
  const refuse = level === "Full" && canProtect;
  const refusedFor = previous?.writesRefusedFor;
  const protect = refuse && refusedFor !== processStart ? true : !refuse && refusedFor !== undefined ? false : undefined;
  const status: InstanceStorageStatus = {
    usedBytes: m.usedBytes,
    ...(m.quotaBytes === undefined ? {} : { quotaBytes: m.quotaBytes }),
    freeBytes: m.freeBytes,
    level,
    measuredAt: m.at,
    ...(refuse ? { writesRefusedFor: processStart } : {}),
  };
  const events = storageEvents(previous?.level ?? "Ok", level, m, canProtect);
  return { status, write: protect !== undefined || worthWriting(previous, status, m), ...(protect === undefined ? {} : { protect }), events };
}
