/**
 * Optimistic transactions on etcd (the shape of etcd's own `concurrency.STM`, serializable): reads come from one
 * revision, writes are buffered, and the commit is one etcd txn that applies every write only if no key the work
 * depends on has changed since it was read. When one has, the work runs again from fresh reads. Two nodes racing on
 * one record therefore behave like two connections of one sqlite file taking its write lock in turn.
 */
import { ConflictError, GoneError } from "../../errors/index.ts";
import type { Compare, EtcdClient, KeyValue, TxnOp } from "../../store/index.ts";

/** A key and value as read, with the revision of its last change. */
export interface ReadEntry {
  key: string;
  value: string;
  modRevision: number;
}

// Each retry means another node changed what this one read; past this many something is wrong (a hot loop).
const MAX_ATTEMPTS = 32;

/** One attempt's reads and buffered writes. */
export class EtcdTransaction {
  private readonly client: EtcdClient;
  private revision: number | undefined;
  /** Keys whose revision the commit compares: each read by `get`, and each listed key that is written. */
  private readonly guards = new Map<string, number>();
  private readonly listed = new Map<string, number>();
  private readonly writes = new Map<string, string | null>();

  constructor(client: EtcdClient) {
    this.client = client;
  }

  /** The value of `key` (this transaction's own write first), or undefined; the commit fails if it changes meanwhile. */
  async get(key: string): Promise<string | undefined> {
    const written = this.writes.get(key);
    if (written !== undefined) return written ?? undefined;
    const [found] = await this.read({ key });
    this.guards.set(key, found?.modRevision ?? 0);
    return found?.value;
  }

  /**
   * Every key under `prefix` as of this transaction's revision. Keys listed are not guarded (that would compare
   * every one of them); a listed key that is written or deleted is, so it is never changed from a stale read.
   * Callers make anything a list must not miss rewrite a key they do guard (see etcd-auth-backend.ts).
   */
  async list(prefix: string): Promise<ReadEntry[]> {
    const found = await this.read({ key: prefix, prefix: true });
    for (const entry of found) this.listed.set(entry.key, entry.modRevision);
    return found.map((entry) => ({ key: entry.key, value: this.writes.get(entry.key) ?? entry.value, modRevision: entry.modRevision })).filter((entry) => this.writes.get(entry.key) !== null);
  }

  put(key: string, value: string): void {
    this.guardListed(key);
    this.writes.set(key, value);
  }

  delete(key: string): void {
    this.guardListed(key);
    this.writes.set(key, null);
  }

  /** Apply the writes if every guarded key is unchanged; true when applied (or there was nothing to write). */
  async commit(): Promise<boolean> {
    if (this.writes.size === 0) return true;
    const compare: Compare[] = [...this.guards].map(([key, modRevision]) => ({ key, target: "MOD", result: "EQUAL", value: modRevision }));
    const success: TxnOp[] = [...this.writes].map(([key, value]) => (value === null ? { deleteRange: { key } } : { put: { key, value } }));
    const result = await this.client.txn(compare, success);
    return result.succeeded;
  }

  private guardListed(key: string): void {
    const listed = this.listed.get(key);
    if (listed !== undefined && !this.guards.has(key)) this.guards.set(key, listed);
  }

  private async read(range: { key: string; prefix?: boolean }): Promise<KeyValue[]> {
    const result = await this.client.range(this.revision === undefined ? range : { ...range, revision: this.revision });
    this.revision ??= result.revision;
    return result.kvs;
  }
}

/** Run `work` until its transaction commits: on a conflict (or a compacted snapshot) it runs again from fresh reads. */
export async function atomically<T>(client: EtcdClient, work: (tx: EtcdTransaction) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const tx = new EtcdTransaction(client);
    try {
      const result = await work(tx);
      if (await tx.commit()) return result;
    } catch (error) {
      if (!(error instanceof GoneError)) throw error;
    }
    if (attempt >= MAX_ATTEMPTS) throw new ConflictError("the authentication state kept changing under this request on other nodes; try again");
  }
}
