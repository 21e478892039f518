/** Encryption of Secret data at rest: what the store writes holds only `encryptedData`. */
import { z } from "zod";
import type { Resource } from "../../api/index.ts";
import { DamagedDataError, errorMessage, HoldfastError, InvalidError, UnavailableError } from "../../errors/index.ts";
import { UNREADABLE_ANNOTATION, type StorageCodec } from "../../store/index.ts";
import { keyIdOf, type Keyring } from "./keyring.ts";

const stringMapSchema = z.record(z.string(), z.string());

/** Associated data binding a ciphertext to one Secret: moved to another name, it no longer decrypts. */
export function secretAssociatedData(object: Resource): string {
  return `v1/Secret/${object.metadata.namespace ?? ""}/${object.metadata.name}`;
}

/**
 * A codec that encrypts `data` (with `stringData` folded in) of Secrets; other kinds pass through.
 * A stored Secret is stale when its ciphertext was made with a key other than the primary one.
 */
export function createSecretCodec(keyring: Keyring): StorageCodec {
  return {
    encode: (object) => (object.kind === "Secret" ? encodeSecret(keyring, object) : object),
    decode: (object) => (object.kind === "Secret" ? decodeSecret(keyring, object) : object),
    isStale: (stored) => stored.kind === "Secret" && typeof stored["encryptedData"] === "string" && keyIdOf(stored["encryptedData"]) !== keyring.primaryKeyId,
    // A key this node is still fetching (a shared keyring just rotated elsewhere) is a retry, not a damaged Secret.
    unreadable: (stored, error) => (stored.kind === "Secret" && !(error instanceof UnavailableError) ? unreadableSecret(stored, error) : undefined),
  };
}

/** A Secret that does not decrypt, as a list shows it: no data, and an annotation saying why. */
function unreadableSecret(stored: Resource, error: unknown): Resource {
  const { encryptedData: _unreadable, ...rest } = stored;
  const annotations = { ...stored.metadata.annotations, [UNREADABLE_ANNOTATION]: errorMessage(error) };
  return { ...rest, metadata: { ...stored.metadata, annotations } };
}

function encodeSecret(keyring: Keyring, object: Resource): Resource {
  // A caller-supplied encryptedData is dropped: only the codec makes it.
  const { data, stringData, encryptedData: _ignored, ...rest } = object;
  if (data === undefined && stringData === undefined) return rest;
  const merged = { ...stringMap(data, "data") };
  for (const [key, value] of Object.entries(stringMap(stringData, "stringData"))) merged[key] = Buffer.from(value, "utf8").toString("base64");
  const plaintext = Buffer.from(JSON.stringify(merged), "utf8");
  return { ...rest, encryptedData: keyring.encrypt(plaintext, secretAssociatedData(object)) };
}

function decodeSecret(keyring: Keyring, object: Resource): Resource {
  const { encryptedData, ...rest } = object;
  if (encryptedData === undefined) return object;
  const name = `${object.metadata.namespace ?? ""}/${object.metadata.name}`;
  const damaged = (why: string, cause?: unknown): DamagedDataError =>
    new DamagedDataError(`Secret ${name} cannot be decrypted (${why}); the other objects are unaffected. Restore the Secret from a backup, or delete it and create it again`, { cause });
  if (typeof encryptedData !== "string") throw damaged("its encryptedData field is malformed");
  let plaintext: Buffer;
  try {
    plaintext = keyring.decrypt(encryptedData, secretAssociatedData(object));
  } catch (error) {
    if (error instanceof UnavailableError) throw error;
    // The keyring's own messages name no secret material; anything else is not repeated.
    throw damaged(error instanceof HoldfastError ? error.message : "decryption failed", error);
  }
  const parsed = stringMapSchema.safeParse(parseJson(plaintext));
  // A parser's message could quote the plaintext: it is never repeated.
  if (!parsed.success) throw damaged("it decrypted to something that is not Secret data");
  return { ...rest, data: parsed.data };
}

function parseJson(plaintext: Buffer): unknown {
  try {
    return JSON.parse(plaintext.toString("utf8"));
  } catch {
    return undefined;
  }
}

function stringMap(value: unknown, field: string): Record<string, string> {
  if (value === undefined) return {};
  const parsed = stringMapSchema.safeParse(value);
  if (!parsed.success) {
    throw new InvalidError(`Secret ${field} must map keys to strings`, { causes: [{ field, message: "must be a map of strings", reason: "FieldValueInvalid" }] });
  }
  return parsed.data;
}
