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
import { readWalBlockMap, type WalBlockMap } from "./wal-block-map.ts";

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
  const start = parseLsn(parent.attributes["startLsn"] ?? "");
  const range = { timeline: Number(basis.timeline), segmentSize: settings.walSegmentSize, systemIdentifier: BigInt(settings.systemIdentifier), start, end: parseLsn(basis.startLsn) };
  const started = performance.now();
  const result = await readWalBlockMap(join(input.dataDirectory, "pg_wal"), range, settings.relationSegmentBlocks);
  if (result.map === undefined) {
    parent.note(`incremental read every block (page LSNs decide): ${result.reason}`);
    return undefined;
  }
  return new ParentChunks(result.map, parent, performance.now() - started);
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
  readonly #mapMs: number;
  #taken = 0;
  #read = 0;

  constructor(map: WalBlockMap, parent: BackupParentStream, mapMs: number) {
    this.#map = map;
    this.#parent = parent;
    this.#mapMs = mapMs;
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

  /** Note how the incremental went, for the backup's summary. */
  report(): void {
    const { records } = this.#map.changes;
    this.#parent.note(
      `incremental from the WAL block map (${records} records, ${this.#map.blockCount} blocks changed, read in ${Math.round(this.#mapMs)} ms): ${this.#taken} chunks of relation files taken from the parent unread, ${this.#read} read`,
    );
  }
}
