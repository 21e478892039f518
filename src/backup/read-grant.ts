/**
 * What reading one backup's chunks needs once its manifest is authenticated: the stream list and the chunk keys (this
 * backup's and its chain's), never the keyring nor the data key. It lets a process of its own read the backup
 * (ADR 0050) while the keyring stays in the control plane; it holds keys, so it travels over a pipe, never argv or env.
 */
import { z } from "zod";
import { streamEntrySchema } from "./manifest.ts";

const key = z.base64().refine((text) => Buffer.from(text, "base64").length === 32, "a 32-byte key");

export const readGrantSchema = z.strictObject({
  backupId: z.string().min(1),
  createdAt: z.string(),
  completedAt: z.string(),
  manifestSha256: z.string().regex(/^[0-9a-f]{64}$/),
  metadata: z.record(z.string(), z.unknown()),
  compression: z.enum(["zstd", "none"]),
  streams: z.array(streamEntrySchema),
  chunkKey: key,
  /** The chain's chunk keys, by backup id, oldest first. */
  linkKeys: z.array(z.tuple([z.string().min(1), key])),
});

/** An authenticated backup's chunk list and chunk keys, as plain data. */
export type ReadGrant = z.infer<typeof readGrantSchema>;
