/**
 * The secret keyring shared by the control-plane nodes of one etcd: one etcd value holding every key wrapped
 * (AES-256-GCM) under the key-encryption key of key-encryption-key.ts. Plaintext keys exist only in each node's
 * memory. A rotation is a compare-and-set of that value, so two nodes rotating at once both succeed, one after the
 * other; every node follows the value with a watch, and a ciphertext naming a key it does not hold yet makes it read
 * the value again at once (the watch may trail a Secret written just after a rotation on another node).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { ConflictError, GoneError, UnavailableError } from "../../errors/index.ts";
import { watchRange, type EtcdClient, type EtcdWatch, type KeyValue } from "../../store/index.ts";
import { exportKeyEncryptionKey, loadOrCreateKeyEncryptionKey, unwrapKey, wrapKey } from "./key-encryption-key.ts";
import { KeyringBase, type Keyring } from "./keyring.ts";
import { newKeyEntry, type KeyringFile } from "./keyring-file.ts";

/** Where the wrapped keyring lives in etcd. */
export const ETCD_KEYRING_KEY = "/holdfast/secrets/keyring";

const KEY_ID = /^[A-Za-z0-9_-]{1,64}$/;
const wrappedKeyringSchema = z.object({
  version: z.literal(1),
  primaryKeyId: z.string().regex(KEY_ID),
  keys: z.array(z.object({ id: z.string().regex(KEY_ID), createdAt: z.string(), wrappedKey: z.base64() })).min(1),
});
type WrappedKeyring = z.infer<typeof wrappedKeyringSchema>;

const RETRY_MILLIS = 1000;
// Each retry means another node rotated in between; a handful is plenty.
const ROTATE_ATTEMPTS = 10;

/** A keyring kept in etcd; `close` ends its watch. */
export interface SharedKeyring extends Keyring {
  /** Read the keyring from etcd now (a watch does so on every change anyway). */
  refresh(): Promise<void>;
  close(): void;
}

/**
 * Open the keyring in etcd with the KEK at `kekFile`. The first node of a control plane makes both (the KEK file
 * first); any later node must already hold the KEK (the join gives it), or this fails saying so.
 */
export async function openEtcdKeyring(client: EtcdClient, kekFile: string): Promise<SharedKeyring> {
  const found = await readStored(client);
  if (found.kv !== undefined) return EtcdKeyring.start(client, { kek: await exportKeyEncryptionKey(kekFile), kekFile }, found.kv, found.revision);
  const kek = await loadOrCreateKeyEncryptionKey(kekFile);
  const entry = newKeyEntry();
  const created: KeyringFile = { version: 1, primaryKeyId: entry.id, keys: [entry] };
  // Created only if still absent: two first nodes starting at once end up with one keyring.
  const result = await client.txn([{ key: ETCD_KEYRING_KEY, target: "CREATE", result: "EQUAL", value: 0 }], [{ put: { key: ETCD_KEYRING_KEY, value: wrapKeyring(kek, created) } }]);
  const stored = await readStored(client);
  if (stored.kv === undefined) throw new UnavailableError(`the secret keyring vanished from ${client.describe()} right after it was ${result.succeeded ? "created" : "read"}; start again`);
  return EtcdKeyring.start(client, { kek, kekFile }, stored.kv, stored.revision);
}

interface Kek {
  kek: Buffer;
  kekFile: string;
}

class EtcdKeyring extends KeyringBase implements SharedKeyring {
  private readonly client: EtcdClient;
  private readonly kek: Kek;
  private revision: number;
  /** The etcd revision the keyring was last read at: the watch resumes after it (the value may be much older). */
  private readAt: number;
  private watch: EtcdWatch | undefined;
  private closed = false;
  private rotation: Promise<string> = Promise.resolve("");

  private constructor(client: EtcdClient, kek: Kek, stored: KeyValue, readAt: number) {
    super(unwrapKeyring(kek, stored.value));
    this.client = client;
    this.kek = kek;
    this.revision = stored.modRevision;
    this.readAt = readAt;
  }

  static start(client: EtcdClient, kek: Kek, stored: KeyValue, readAt: number): EtcdKeyring {
    const keyring = new EtcdKeyring(client, kek, stored, readAt);
    keyring.follow();
    return keyring;
  }

  rotate(): Promise<string> {
    // This node's rotations run one after another; other nodes' are ordered by the compare-and-set.
    this.rotation = this.rotation.catch(() => "").then(() => this.rotateNow());
    return this.rotation;
  }

  async refresh(): Promise<void> {
    const stored = await readStored(this.client);
    if (stored.kv !== undefined) this.apply(stored.kv);
    this.readAt = Math.max(this.readAt, stored.revision);
  }

  close(): void {
    this.closed = true;
    this.watch?.cancel();
  }

  protected unknownKey(id: string): Error {
    // Read again now, so the next attempt finds a key another node has just added.
    this.refresh().catch(() => undefined);
    return new UnavailableError(`cannot decrypt: key ${id} is not in the shared keyring as this node knows it; it is being read again from etcd, try again (if this persists, the key is lost: restore etcd from a backup)`);
  }

  private async rotateNow(): Promise<string> {
    for (let attempt = 1; attempt <= ROTATE_ATTEMPTS; attempt++) {
      const stored = (await readStored(this.client)).kv;
      if (stored === undefined) throw new UnavailableError(`the secret keyring is missing from ${this.client.describe()}; restore etcd from a backup`);
      const current = unwrapKeyring(this.kek, stored.value);
      const entry = newKeyEntry();
      const next: KeyringFile = { version: 1, primaryKeyId: entry.id, keys: [...current.keys, entry] };
      const compare = [{ key: ETCD_KEYRING_KEY, target: "MOD" as const, result: "EQUAL" as const, value: stored.modRevision }];
      const result = await this.client.txn(compare, [{ put: { key: ETCD_KEYRING_KEY, value: wrapKeyring(this.kek.kek, next) } }]);
      if (result.succeeded) {
        this.applyFile(next, result.revision);
        return entry.id;
      }
    }
    throw new ConflictError("the secret keyring kept changing on other nodes during the rotation; run it again");
  }

  private follow(): void {
    if (this.closed) return;
    this.watch = watchRange(this.client, { key: ETCD_KEYRING_KEY }, this.readAt + 1, {
      onEvents: (events) => {
        for (const event of events) if (event.type === "PUT") this.applyQuietly(event.kv);
        const last = events.at(-1);
        if (last !== undefined) this.readAt = Math.max(this.readAt, last.kv.modRevision);
      },
      onError: (error) => {
        // History it needed was compacted: read the value as it is now and follow from there.
        if (!(error instanceof GoneError) || this.closed) return;
        // If etcd does not answer the read, wait a moment rather than ask again at once.
        void this.refresh()
          .catch(() => sleep(RETRY_MILLIS))
          .then(() => this.follow());
      },
    });
  }

  private applyQuietly(stored: KeyValue): void {
    try {
      this.apply(stored);
    } catch {
      // A value this node cannot unwrap is not used; a decrypt that needs it reads again and reports why.
    }
  }

  private apply(stored: KeyValue): void {
    if (stored.modRevision <= this.revision) return;
    this.applyFile(unwrapKeyring(this.kek, stored.value), stored.modRevision);
  }

  private applyFile(file: KeyringFile, revision: number): void {
    if (revision <= this.revision) return;
    this.revision = revision;
    this.replace(file);
  }
}

/** The stored keyring, if any, and the etcd revision it was read at. */
async function readStored(client: EtcdClient): Promise<{ kv: KeyValue | undefined; revision: number }> {
  const result = await client.range({ key: ETCD_KEYRING_KEY });
  return { kv: result.kvs[0], revision: result.revision };
}

function wrapKeyring(kek: Buffer, file: KeyringFile): string {
  const wrapped: WrappedKeyring = {
    version: 1,
    primaryKeyId: file.primaryKeyId,
    keys: file.keys.map((entry) => ({ id: entry.id, createdAt: entry.createdAt, wrappedKey: wrapKey(kek, entry.id, Buffer.from(entry.key, "base64")) })),
  };
  return JSON.stringify(wrapped);
}

function unwrapKeyring(kek: Kek, text: string): KeyringFile {
  const parsed = wrappedKeyringSchema.safeParse(parseJson(text));
  if (!parsed.success) throw new UnavailableError(`the secret keyring ${ETCD_KEYRING_KEY} in etcd is not a valid keyring; restore etcd from a backup`);
  const { primaryKeyId, keys } = parsed.data;
  if (!keys.some((entry) => entry.id === primaryKeyId)) throw new UnavailableError(`the secret keyring in etcd names primary key ${primaryKeyId}, which it does not hold; restore etcd from a backup`);
  return {
    version: 1,
    primaryKeyId,
    keys: keys.map((entry) => ({ id: entry.id, createdAt: entry.createdAt, key: unwrapKey(kek.kek, entry.id, entry.wrappedKey, kek.kekFile).toString("base64") })),
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
