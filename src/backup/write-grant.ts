/**
 * What writing one stream of a backup needs, without the keyring, the data key or the manifest key: the chunk key,
 * where the chunks go (the writer's session prefix and the stream's ordinal), how they are encoded, and for an
 * incremental what the parent holds (its content key, the MACs, file blocks and layouts of its chain's chunks, the
 * attributes its method recorded). A process of its own (ADR 0044) writes the stream's chunks under it; the control
 * plane, which keeps the keys, adopts the chunk list and commits the manifest. It holds keys, so it travels over a
 * pipe, never argv or env.
 */
import { z } from "zod";
import { chunkEntrySchema } from "./manifest.ts";

const key = z.base64().refine((text) => Buffer.from(text, "base64").length === 32, "a 32-byte key");
const count = z.int().nonnegative();

export const writeGrantSchema = z.strictObject({
  backupId: z.string().min(1),
  /** Where this writer session's chunks are stored (the writer's abort deletes everything under it). */
  sessionPrefix: z.string().min(1),
  stream: z.string().min(1),
  ordinal: count,
  chunkKey: key,
  /**
   * The key of the content and layout MACs this backup's manifest records (the base's in an incremental): chunks
   * MACed under another would never be matched by the next incremental.
   */
  contentKey: key,
  chunkSize: z.int().positive(),
  compression: z.enum(["zstd", "none"]),
  level: z.int().min(1).max(19),
  /** Chunks being compressed, encrypted or stored at once. */
  maxChunksInFlight: z.int().min(1).max(64).optional(),
  base: z
    .strictObject({
      contentKey: key,
      reusable: z.array(z.tuple([z.string(), chunkEntrySchema])),
      blocks: z.array(z.tuple([z.string(), chunkEntrySchema])),
      layouts: z.array(z.tuple([z.string(), chunkEntrySchema])),
      attributes: z.array(z.tuple([z.string(), z.record(z.string(), z.string())])),
    })
    .optional(),
});

/** See writeGrantSchema. */
export type WriteGrant = z.infer<typeof writeGrantSchema>;

/** What was written of a stream under a grant: its chunks, the attributes and notes of its method. */
export const writtenStreamSchema = z.strictObject({
  chunks: z.array(chunkEntrySchema).min(1),
  attributes: z.record(z.string(), z.string()).optional(),
  notes: z.array(z.string()),
});

/** See writtenStreamSchema. */
export type WrittenStream = z.infer<typeof writtenStreamSchema>;
