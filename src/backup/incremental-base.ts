/**
 * The base of an incremental backup: the previous backup's authenticated manifest, read for its chain, its content
 * key and the content MACs of every chunk it holds or reuses. A chunk of the new backup whose MAC is among them is
 * recorded as a reference to the stored one instead of being compressed, encrypted and stored again.
 */
import { InvalidError } from "../errors/index.ts";
import type { ChainLink, ChunkEntry, ManifestBody } from "./manifest.ts";
import { openManifest, type OpenBackupOptions } from "./open-manifest.ts";

/** What an incremental backup builds on. */
export interface IncrementalBase {
  /** The chain of the new backup: the parent's chain, then the parent. */
  chain: ChainLink[];
  contentKey: Buffer;
  /** Chunks that can be reused, by content MAC, each with the place it was stored at. */
  reusable: ReadonlyMap<string, ChunkEntry>;
  /** Chunks of large tar members, by `blockKey` (stream, file, offset), each with the place it was stored at. */
  blocks: ReadonlyMap<string, ChunkEntry>;
  /** Chunks outside large tar members with a recorded layout, by `layoutKey` (stream, layout MAC). */
  layouts: ReadonlyMap<string, ChunkEntry>;
  /** What the parent's method noted of each stream, by stream name. */
  attributes: ReadonlyMap<string, Readonly<Record<string, string>>>;
}

/** The key of a chunk of file `file` at `offset` in stream `stream`. */
export function blockKey(stream: string, file: string, offset: number): string {
  return JSON.stringify([stream, file, offset]);
}

/** The key of a chunk of stream `stream` with tar layout MAC `layout`. */
export function layoutKey(stream: string, layout: string): string {
  return JSON.stringify([stream, layout]);
}

/** Open the parent (refused like any backup read: missing, changed or replaced) and index its chunks by content. */
export async function openIncrementalBase(parent: OpenBackupOptions): Promise<IncrementalBase> {
  const opened = await openManifest(parent);
  opened.dataKey.fill(0);
  opened.keys.chunkKey.fill(0);
  opened.keys.manifestKey.fill(0);
  const { body, envelope } = opened;
  if (body.contentKey === undefined) {
    throw new InvalidError(`backup ${envelope.backupId} was written before incremental backups existed and cannot be a parent; take a full backup first`);
  }
  return {
    chain: [...(body.chain ?? []), { backupId: envelope.backupId, createdAt: envelope.createdAt }],
    contentKey: Buffer.from(body.contentKey, "base64"),
    ...reusableChunks(envelope.backupId, body),
    attributes: new Map(body.streams.flatMap((stream) => (stream.attributes === undefined ? [] : [[stream.name, stream.attributes] as const]))),
  };
}

function reusableChunks(backupId: string, body: ManifestBody): Pick<IncrementalBase, "reusable" | "blocks" | "layouts"> {
  const reusable = new Map<string, ChunkEntry>();
  const blocks = new Map<string, ChunkEntry>();
  const layouts = new Map<string, ChunkEntry>();
  for (const stream of body.streams) {
    for (const chunk of stream.chunks) {
      const origin = chunk.origin ?? { backupId, stream: stream.name, ordinal: stream.ordinal, index: chunk.index, final: chunk.index === stream.chunks.length - 1 };
      const stored = { ...chunk, origin };
      if (chunk.file !== undefined && chunk.offset !== undefined) blocks.set(blockKey(stream.name, chunk.file, chunk.offset), stored);
      if (chunk.layout !== undefined) layouts.set(layoutKey(stream.name, chunk.layout), stored);
      if (chunk.mac !== undefined && !reusable.has(chunk.mac)) reusable.set(chunk.mac, stored);
    }
  }
  return { reusable, blocks, layouts };
}
