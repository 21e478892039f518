/**
 * The manifest: written last, it is what makes a backup complete. Its envelope is public (format, ids, times,
 * where the data lives, the wrapped data key); its body (metadata, streams, every chunk's size and SHA-256) is
 * AES-256-GCM sealed under the manifest key, with the envelope as associated data, so any change is refused.
 */
import { z } from "zod";
import { FORMAT_ID, openMessage, sealMessage, type BackupKeys } from "./chunk-crypto.ts";
import { BackupIntegrityError } from "./integrity-error.ts";
import { DATA_PREFIX } from "./object-keys.ts";

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);
const size = z.int().nonnegative();

/** Where a chunk reused by an incremental backup was stored: the link of the chain and the place its AEAD binds. */
const chunkOriginSchema = z.strictObject({
  backupId: z.string().min(1),
  stream: z.string().min(1),
  ordinal: size,
  index: size,
  final: z.boolean(),
});

export const chunkEntrySchema = z.strictObject({
  index: size,
  key: z.string().min(1),
  storedBytes: size,
  plaintextBytes: size,
  sha256: sha256Hex,
  /** HMAC-SHA256 of the plaintext under the chain's content key: what an incremental backup compares. */
  mac: sha256Hex.optional(),
  /** Present when the chunk was stored by an earlier backup of the chain (the key lies under that backup's data). */
  origin: chunkOriginSchema.optional(),
  /** The tar member whose data holds the whole chunk (a large file), and the file offset of its first byte. */
  file: z.string().min(1).max(4096).optional(),
  offset: size.optional(),
  /**
   * HMAC-SHA256 under the content key of the chunk's tar layout (its members' headers, with their sizes and mtimes,
   * and where it starts): a chunk outside large members. An incremental takes the chunk with the same layout when
   * it did not read the members' data, which its method vouches unchanged (written since 2026-12-07).
   */
  layout: sha256Hex.optional(),
});

/** One earlier backup an incremental backup reads chunks from. */
const chainLinkSchema = z.strictObject({
  backupId: z.string().min(1),
  createdAt: z.iso.datetime(),
});

export const streamEntrySchema = z.strictObject({
  name: z.string().min(1),
  ordinal: size,
  plaintextBytes: size,
  storedBytes: size,
  chunks: z.array(chunkEntrySchema).min(1),
  /** What the backup method noted of the stream (e.g. the WAL position it starts at), for the next incremental. */
  attributes: z.record(z.string().max(256), z.string().max(4096)).optional(),
});

const manifestBodySchema = z.strictObject({
  metadata: z.record(z.string(), z.unknown()),
  compression: z.enum(["zstd", "none"]),
  chunkSize: z.int().positive(),
  streams: z.array(streamEntrySchema),
  /** Base64 key of the chain's content MACs (a full backup makes it, its incrementals inherit it). */
  contentKey: z.base64().optional(),
  /** The earlier backups whose chunks this one reuses, oldest first: all must be present and authentic to read it. */
  chain: z.array(chainLinkSchema).optional(),
});

const envelopeSchema = z.strictObject({
  format: z.literal(FORMAT_ID),
  backupId: z.string().min(1),
  createdAt: z.iso.datetime(),
  completedAt: z.iso.datetime(),
  dataPrefix: z.string().min(1),
  wrappedKey: z.string().min(1),
  // Canonical base64url only: unused low bits of the last character must not be free to change.
  sealed: z.base64url().refine((text) => Buffer.from(text, "base64url").toString("base64url") === text, "not canonical base64url"),
});

/** One stored chunk: the manifest's record of it. */
export type ChunkEntry = z.infer<typeof chunkEntrySchema>;
/** Where a reused chunk was stored. */
export type ChunkOrigin = z.infer<typeof chunkOriginSchema>;
/** One link of an incremental chain. */
export type ChainLink = z.infer<typeof chainLinkSchema>;
/** One stream and its chunks, in order. */
export type StreamEntry = z.infer<typeof streamEntrySchema>;
/** The sealed part of the manifest. */
export type ManifestBody = z.infer<typeof manifestBodySchema>;
/** The manifest object as stored. */
export type ManifestEnvelope = z.infer<typeof envelopeSchema>;
/** The envelope's fields other than the sealed body. */
export type ManifestHeader = Omit<ManifestEnvelope, "sealed">;

/** The stored bytes of a manifest. */
export function sealManifest(keys: BackupKeys, header: ManifestHeader, body: ManifestBody): Buffer {
  const sealed = sealMessage(keys.manifestKey, headerAssociatedData(header), Buffer.from(JSON.stringify(body), "utf8"));
  return serializeEnvelope({ ...header, sealed: sealed.toString("base64url") });
}

/** The one serialization of an envelope: fixed field order, so any change to the stored bytes is visible. */
function serializeEnvelope(envelope: ManifestEnvelope): Buffer {
  const ordered: ManifestEnvelope = {
    format: envelope.format,
    backupId: envelope.backupId,
    createdAt: envelope.createdAt,
    completedAt: envelope.completedAt,
    dataPrefix: envelope.dataPrefix,
    wrappedKey: envelope.wrappedKey,
    sealed: envelope.sealed,
  };
  return Buffer.from(`${JSON.stringify(ordered, null, 1)}\n`, "utf8");
}

/** The envelope of stored manifest bytes; not yet authenticated (that happens in `openManifestBody`). */
export function parseManifestEnvelope(bytes: Buffer, backupId: string, objectKey: string): ManifestEnvelope {
  const fail = (detail: string, cause?: unknown): BackupIntegrityError =>
    new BackupIntegrityError("manifest", { backupId, objectKey }, detail, cause);
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString("utf8"));
  } catch (error) {
    throw fail("the manifest is not valid JSON: it was changed or truncated; verify the repository and restore from another backup", error);
  }
  const parsed = envelopeSchema.safeParse(json);
  if (!parsed.success) throw fail(`the manifest is malformed (${parsed.error.issues[0]?.message ?? "invalid"}): it was changed`);
  // Whitespace, escapes or base64 padding bits could change without changing the parsed value: refuse any byte
  // that is not exactly what the writer wrote.
  if (!serializeEnvelope(parsed.data).equals(bytes)) throw fail("the manifest's bytes are not as written: it was changed");
  if (parsed.data.backupId !== backupId) {
    throw fail(`the manifest belongs to backup ${parsed.data.backupId}: a manifest was moved or swapped`);
  }
  return parsed.data;
}

/** The authenticated body; throws a manifest integrity error when the envelope or body was changed. */
export function openManifestBody(keys: BackupKeys, envelope: ManifestEnvelope, objectKey: string): ManifestBody {
  const { sealed, ...header } = envelope;
  const fail = (detail: string, cause?: unknown): BackupIntegrityError =>
    new BackupIntegrityError("manifest", { backupId: envelope.backupId, objectKey }, detail, cause);
  let plaintext: Buffer;
  try {
    plaintext = openMessage(keys.manifestKey, headerAssociatedData(header), Buffer.from(sealed, "base64url"));
  } catch (error) {
    throw fail("the manifest failed authentication: it was changed; do not restore from this backup", error);
  }
  const parsed = manifestBodySchema.safeParse(parseJson(plaintext));
  if (!parsed.success) throw fail("the manifest body is malformed although authentic: it was written by an incompatible version");
  const inconsistency = findInconsistency(parsed.data, header.dataPrefix, header.backupId);
  if (inconsistency !== undefined) throw fail(`the manifest is inconsistent: ${inconsistency}`);
  return parsed.data;
}

function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch {
    return undefined;
  }
}

function headerAssociatedData(header: ManifestHeader): Buffer {
  const fields = [header.format, header.backupId, header.createdAt, header.completedAt, header.dataPrefix, header.wrappedKey];
  return Buffer.from(JSON.stringify([FORMAT_ID, "manifest", ...fields]), "utf8");
}

/** Structural rules the writer always keeps: indexes in order, keys under the data prefix, totals that add up. */
function findInconsistency(body: ManifestBody, dataPrefix: string, backupId: string): string | undefined {
  const links = new Set((body.chain ?? []).map((link) => link.backupId));
  if (links.has(backupId) || links.size !== (body.chain ?? []).length) return "its chain names a backup twice or names itself";
  const names = new Set<string>();
  const ordinals = new Set<number>();
  for (const stream of body.streams) {
    if (names.has(stream.name) || ordinals.has(stream.ordinal)) return `stream "${stream.name}" appears twice`;
    names.add(stream.name);
    ordinals.add(stream.ordinal);
    const problem = streamInconsistency(stream, dataPrefix, links);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function streamInconsistency(stream: StreamEntry, dataPrefix: string, links: ReadonlySet<string>): string | undefined {
  let stored = 0;
  let plain = 0;
  for (const [position, chunk] of stream.chunks.entries()) {
    if (chunk.index !== position) return `stream "${stream.name}" lists chunk ${chunk.index} at position ${position}`;
    const owner = chunk.origin?.backupId;
    if (owner !== undefined && !links.has(owner)) return `chunk ${position} of "${stream.name}" comes from ${owner}, which is not in its chain`;
    const prefix = owner === undefined ? dataPrefix : `${DATA_PREFIX}${owner}/`;
    if (!chunk.key.startsWith(prefix)) return `chunk ${position} of "${stream.name}" lies outside ${prefix}`;
    stored += chunk.storedBytes;
    plain += chunk.plaintextBytes;
  }
  if (stored !== stream.storedBytes || plain !== stream.plaintextBytes) return `the totals of stream "${stream.name}" do not add up`;
  return undefined;
}
