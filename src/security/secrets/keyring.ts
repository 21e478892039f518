/** The secret keyring: AES-256-GCM keys with ids, one primary for new writes, all usable for reads. */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { InternalError } from "../../errors/index.ts";
import { isExisting, newKeyEntry, readKeyringFile, writeKeyringFile, type KeyringFile } from "./keyring-file.ts";

/** A key's public facts: never its material. */
export interface KeyringKeyInfo {
  id: string;
  /** When the key was made (RFC 3339). */
  createdAt: string;
}

/** Encrypts and decrypts with keys identified inside every ciphertext. */
export interface Keyring {
  /** The id of the key new ciphertexts are made with. */
  readonly primaryKeyId: string;
  /** Every key's id and creation time, in the order the keys were added (the newest last). */
  listKeys(): KeyringKeyInfo[];
  /** `hfenc:v1:<keyId>:<base64url(iv || ciphertext || tag)>`, bound to `associatedData`. */
  encrypt(plaintext: Buffer, associatedData: string): string;
  /** The plaintext, or an error when the ciphertext was modified, moved, or made with an unknown key. */
  decrypt(ciphertext: string, associatedData: string): Buffer;
  /** Add a new primary key and persist it; older keys still decrypt. Returns the new key id. */
  rotate(): Promise<string>;
}

const PREFIX = "hfenc:v1:";
const IV_BYTES = 12;
const TAG_BYTES = 16;
const CIPHERTEXT = /^hfenc:v1:([A-Za-z0-9_-]{1,64}):([A-Za-z0-9_-]+)$/;

/** Load the keyring at `path`, creating it (0600, in a 0700 directory) on first use. */
export async function loadOrCreateKeyring(path: string): Promise<Keyring> {
  const existing = await readKeyringFile(path);
  if (existing !== undefined) return new FileKeyring(path, existing);
  const entry = newKeyEntry();
  const created: KeyringFile = { version: 1, primaryKeyId: entry.id, keys: [entry] };
  try {
    await writeKeyringFile(path, created, true);
  } catch (error) {
    // Another process created it first: use theirs, so both agree on the keys.
    if (isExisting(error)) return loadOrCreateKeyring(path);
    throw error;
  }
  return new FileKeyring(path, created);
}

/** Encryption and decryption over a set of keys; subclasses say where the keys are kept and how a rotation is stored. */
export abstract class KeyringBase implements Keyring {
  private file: KeyringFile;
  private keys: Map<string, Buffer>;

  protected constructor(file: KeyringFile) {
    this.file = file;
    this.keys = keyMap(file);
  }

  get primaryKeyId(): string {
    return this.file.primaryKeyId;
  }

  encrypt(plaintext: Buffer, associatedData: string): string {
    const id = this.file.primaryKeyId;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.mustKey(id), iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(associatedData, "utf8"));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return `${PREFIX}${id}:${Buffer.concat([iv, body, cipher.getAuthTag()]).toString("base64url")}`;
  }

  decrypt(ciphertext: string, associatedData: string): Buffer {
    const { id, payload } = parseCiphertext(ciphertext);
    if (payload.length < IV_BYTES + TAG_BYTES) throw new InternalError("cannot decrypt: the ciphertext is truncated; restore the object from a backup");
    const decipher = createDecipheriv("aes-256-gcm", this.mustKey(id), payload.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(associatedData, "utf8"));
    decipher.setAuthTag(payload.subarray(payload.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(payload.subarray(IV_BYTES, payload.length - TAG_BYTES)), decipher.final()]);
    } catch (error) {
      throw new InternalError(
        `cannot decrypt: authentication failed for "${associatedData}" (the ciphertext was modified or belongs to another object); restore it from a backup`,
        { cause: error },
      );
    }
  }

  listKeys(): KeyringKeyInfo[] {
    return this.file.keys.map((entry) => ({ id: entry.id, createdAt: entry.createdAt }));
  }

  abstract rotate(): Promise<string>;

  /** The keys as they are now (key material included: never leaves the process unwrapped). */
  protected get current(): KeyringFile {
    return this.file;
  }

  /** Use `file` from now on. */
  protected replace(file: KeyringFile): void {
    this.file = file;
    this.keys = keyMap(file);
  }

  /** The error for a ciphertext made with a key this keyring does not hold. */
  protected abstract unknownKey(id: string): Error;

  private mustKey(id: string): Buffer {
    const key = this.keys.get(id);
    if (key === undefined) throw this.unknownKey(id);
    return key;
  }
}

class FileKeyring extends KeyringBase {
  private readonly path: string;
  private rotation: Promise<string> = Promise.resolve("");

  constructor(path: string, file: KeyringFile) {
    super(file);
    this.path = path;
  }

  rotate(): Promise<string> {
    // Rotations run one after another so two of them never write the file from the same old state.
    this.rotation = this.rotation.catch(() => "").then(() => this.rotateNow());
    return this.rotation;
  }

  protected unknownKey(id: string): Error {
    return new InternalError(`cannot decrypt: key ${id} is not in the keyring ${this.path}; restore the keyring file that holds it`);
  }

  private async rotateNow(): Promise<string> {
    const entry = newKeyEntry();
    const next: KeyringFile = { version: 1, primaryKeyId: entry.id, keys: [...this.current.keys, entry] };
    await writeKeyringFile(this.path, next, false);
    this.replace(next);
    return entry.id;
  }
}

function keyMap(file: KeyringFile): Map<string, Buffer> {
  return new Map(file.keys.map((entry) => [entry.id, Buffer.from(entry.key, "base64")]));
}

/** The id of the key a ciphertext was made with, or undefined when it is not a Holdfast ciphertext. */
export function keyIdOf(ciphertext: string): string | undefined {
  return CIPHERTEXT.exec(ciphertext)?.[1];
}

function parseCiphertext(ciphertext: string): { id: string; payload: Buffer } {
  const match = CIPHERTEXT.exec(ciphertext);
  const id = match?.[1];
  const body = match?.[2];
  if (id === undefined || body === undefined) {
    throw new InternalError("cannot decrypt: not a Holdfast ciphertext (expected hfenc:v1:<keyId>:<data>); restore the object from a backup");
  }
  return { id, payload: Buffer.from(body, "base64url") };
}
