/**
 * Which chunks an incremental data-directory backup takes from its parent without reading them: those of a
 * relation's main fork that no WAL record between the parent's start and this backup's start touched
 * (wal-block-map.ts), that the parent holds at the same file, offset and size. Everything else is read and goes
 * the page-LSN way (page-lsn.ts). docs/adr/0044, "Since 2026-12-07 (later): incremental from a WAL block map".
 */
import { join } from "node:path";
import type { BackupParentStream } from "../types.ts";
import { parseLsn } from "./lsn.ts";
import { isMainForkSegment, PAGE_SIZE, unchangedSince, type PageLsnBasis } from "./page-lsn.ts";
import { WalBlockMapReader, type WalBlockMap } from "./wal-block-map.ts";

/** The server settings the map depends on. */
export interface WalSettings {
  fullPageWrites: boolean;
  blockSize: number;
  /** Blocks per relation segment file (segment_size). */
  relationSegmentBlocks: number;
  walSegmentSize: number;
  systemIdentifier: string;
}

/** What decides between the map and reading everything. */
export interface ParentChunksInput {
  dataDirectory: string;
  /** This backup's start (its page-LSN basis); undefined without Holdfast's marker. */
  basis: PageLsnBasis | undefined;
  parent: BackupParentStream | undefined;
  settings: WalSettings;
  /** The WAL read begun while the backup's checkpoint ran (`startWalRead`), if any. */
  early?: EarlyWalRead | undefined;
  /** How long the backup's checkpoint took (noted with the outcome). */
  checkpointMs?: number;
}

/** A WAL read begun before the backup's start was known. */
export interface EarlyWalRead {
  reader: WalBlockMapReader;
  /** The parent's start it reads from. */
  start: bigint;
  /** Settles once the segments known whole were read. */
  reading: Promise<void>;
}

/**
 * Begin reading the WAL since the parent's start (from its attributes) up to the segments wholly before `written`
 * (a position the server has flushed), on `timeline`, while the backup's checkpoint runs; undefined without a parent
 * start. Whether the map may be used at all is decided later (`parentChunksOf`), when the backup's start is known.
 */
export function startWalRead(dataDirectory: string, parentAttributes: Readonly<Record<string, string>> | undefined, settings: WalSettings, position: { timeline: number; written: bigint }): EarlyWalRead | undefined {
  const start = startOf(parentAttributes);
  if (start === undefined || !settings.fullPageWrites) return undefined;
  const reader = newReader(dataDirectory, settings, { timeline: position.timeline, start });
  const reading = reader.readBefore(position.written);
  reading.catch(() => undefined);
  return { reader, start, reading };
}

/** The early read, when it reads from the parent's start on this backup's timeline. */
function matchingEarlyRead(early: EarlyWalRead | undefined, parent: BackupParentStream, basis: PageLsnBasis): EarlyWalRead | undefined {
  const same = early !== undefined && early.start === startOf(parent.attributes) && early.reader.timeline === Number(basis.timeline);
  return same ? early : undefined;
}

function newReader(dataDirectory: string, settings: WalSettings, from: { timeline: number; start: bigint }): WalBlockMapReader {
  const range = { timeline: from.timeline, segmentSize: settings.walSegmentSize, systemIdentifier: BigInt(settings.systemIdentifier), start: from.start };
  return new WalBlockMapReader(join(dataDirectory, "pg_wal"), range, settings.relationSegmentBlocks);
}

function startOf(attributes: Readonly<Record<string, string>> | undefined): bigint | undefined {
  try {
    return attributes?.["startLsn"] === undefined ? undefined : parseLsn(attributes["startLsn"]);
  } catch {
    return undefined;
  }
}

/** The map for this backup, or undefined (noted to the parent stream with the reason) when every block is read. */
export async function parentChunksOf(input: ParentChunksInput): Promise<ParentChunks | undefined> {
  const { basis, parent, settings } = input;
  if (parent === undefined) return undefined;
  const refusal = refusalOf(basis, parent, settings);
  if (refusal !== undefined || basis === undefined) {
    parent.note(`incremental read every block (page LSNs decide): ${refusal ?? "no basis"}`);
    return undefined;
  }
  const started = performance.now();
  const early = matchingEarlyRead(input.early, parent, basis);
  await early?.reading;
  const reader = early?.reader ?? newReader(input.dataDirectory, settings, { timeline: Number(basis.timeline), start: parseLsn(parent.attributes["startLsn"] ?? "") });
  const result = await reader.finish(parseLsn(basis.startLsn));
  if (result.map === undefined) {
    parent.note(`incremental read every block (page LSNs decide): ${result.reason}`);
    return undefined;
  }
  const when = early === undefined ? "" : ` after the backup's start (begun during its checkpoint of ${Math.round(input.checkpointMs ?? 0)} ms)`;
  return new ParentChunks(result.map, parent, `${Math.round(performance.now() - started)} ms${when}`);
}

/** Why the map cannot be used, before reading any WAL. */
function refusalOf(basis: PageLsnBasis | undefined, parent: BackupParentStream, settings: WalSettings): string | undefined {
  if (basis === undefined) return "the data directory has no Holdfast marker";
  if (unchangedSince(basis, parent.attributes) === undefined) return "the parent is of another data directory, timeline or system, or did not start before this backup";
  if (!settings.fullPageWrites) return "full_page_writes is off";
  if (settings.blockSize !== PAGE_SIZE || settings.relationSegmentBlocks <= 0) return `the block size is ${settings.blockSize}, not ${PAGE_SIZE}`;
  return undefined;
}

/** Answers, per chunk of a file, whether to write the parent's placeholder instead of reading it; counts both. */
export class ParentChunks {
  readonly #map: WalBlockMap;
  readonly #parent: BackupParentStream;
  readonly #took: string;
  #taken = 0;
  #read = 0;

  constructor(map: WalBlockMap, parent: BackupParentStream, took: string) {
    this.#map = map;
    this.#parent = parent;
    this.#took = took;
  }

  /** A placeholder for bytes [offset, offset + length) of `file`, or undefined when they must be read. */
  placeholderFor(file: string, offset: number, length: number): Buffer | undefined {
    if (!isMainForkSegment(file)) return undefined;
    if (this.#map.unchanged(file, offset, length) && this.#parent.holds(file, offset, length)) {
      this.#taken++;
      return this.#parent.placeholder(length);
    }
    this.#read++;
    return undefined;
  }

  /** Whether all of small main-fork file `file` (`size` bytes) is unchanged since the parent (no page read). */
  unchangedFile(file: string, size: number): boolean {
    return this.#map.unchanged(file, 0, size);
  }

  /** Note how the incremental went, for the backup's summary (`walkMs`: the data directory's walk). */
  report(walkMs: number): void {
    const { records } = this.#map.changes;
    this.#parent.note(
      `incremental from the WAL block map (${records} records, ${this.#map.blockCount} blocks changed, read in ${this.#took}): ${this.#taken} chunks of relation files taken from the parent unread, ${this.#read} read; the walk took ${Math.round(walkMs)} ms`,
    );
  }
}
