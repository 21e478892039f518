/**
 * Which blocks of a data directory an incremental backup may take from its parent without reading them closely:
 * every 8 KiB page of a relation's main fork starts with the LSN of the last WAL record that changed it (pd_lsn),
 * so a block whose pages all carry an LSN older than the parent backup's start has not changed since then
 * (docs/adr/0044, "Since 2026-12-06: backup side", has the reasoning and the cases that are not trusted).
 */
import { parseLsn } from "./lsn.ts";

/** PostgreSQL's block size (Holdfast's servers use the default). */
export const PAGE_SIZE = 8192;

const DIGITS = /^\d+$/;
const SEGMENT = /^\d+\.\d+$/;

/** What a backup notes of its `base.tar` so that the next incremental can compare page LSNs with it. */
export interface PageLsnBasis {
  /** The WAL position the backup starts at (pg_backup_start). */
  startLsn: string;
  timeline: string;
  systemIdentifier: string;
  /** A digest of Holdfast's marker: it differs for every initialisation or restore of a data directory. */
  incarnation: string;
}

/** The attributes a backup records (all strings), from its basis. */
export function basisAttributes(basis: PageLsnBasis): Record<string, string> {
  return { startLsn: basis.startLsn, timeline: basis.timeline, systemIdentifier: basis.systemIdentifier, incarnation: basis.incarnation };
}

/** True for the files whose pages all carry a WAL-logged LSN (not the FSM or VM forks, nor pg_xact and the like). */
export function isMainForkSegment(file: string): boolean {
  const parts = file.split("/");
  const name = parts.at(-1) ?? "";
  const inDatabase = parts.length === 3 && parts[0] === "base" && DIGITS.test(parts[1] ?? "");
  const shared = parts.length === 2 && parts[0] === "global";
  return (inDatabase || shared) && (DIGITS.test(name) || SEGMENT.test(name));
}

/**
 * True when `data` is whole pages, each initialised (pd_upper is not 0: a zeroed page says nothing about what
 * was there before) with an LSN above 0 and before `before` (high and low 32-bit halves). Pages are in the host's
 * byte order, little-endian on every platform Holdfast runs on.
 */
export function pagesOlderThan(data: Buffer, before: { high: number; low: number }): boolean {
  if (data.length === 0 || data.length % PAGE_SIZE !== 0) return false;
  for (let at = 0; at < data.length; at += PAGE_SIZE) {
    const high = data.readUInt32LE(at);
    const low = data.readUInt32LE(at + 4);
    const upper = data.readUInt16LE(at + 14);
    if (upper === 0 || (high === 0 && low === 0)) return false;
    if (high > before.high || (high === before.high && low >= before.low)) return false;
  }
  return true;
}

/**
 * The test of unchanged blocks for a backup with `current` basis, given the parent's attributes: none unless the
 * parent was taken from the same data directory incarnation, on the same timeline, with a start LSN before ours.
 */
export function unchangedSince(current: PageLsnBasis, parent: Readonly<Record<string, string>>): ((file: string, offset: number, data: Buffer) => boolean) | undefined {
  const same = parent["systemIdentifier"] === current.systemIdentifier && parent["timeline"] === current.timeline && parent["incarnation"] === current.incarnation;
  const startText = parent["startLsn"];
  if (!same || startText === undefined) return undefined;
  let start: bigint;
  try {
    start = parseLsn(startText);
  } catch {
    return undefined;
  }
  if (start <= 0n || start > parseLsn(current.startLsn)) return undefined;
  const before = { high: Number(start >> 32n), low: Number(start & 0xffffffffn) };
  return (file, offset, data) => offset % PAGE_SIZE === 0 && isMainForkSegment(file) && pagesOlderThan(data, before);
}
