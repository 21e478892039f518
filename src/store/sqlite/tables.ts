/** The SQL of the store, one prepared statement per question; rows hold encoded JSON. */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { ObjectKey } from "../object-rules.ts";

/** One stored object row. */
export interface ObjectRow {
  kind: string;
  namespace: string;
  name: string;
  object: string;
}

/** One recorded change. */
export interface ChangeRow {
  resource_version: number;
  type: string;
  object: string;
}

/** Filters a watch backlog is read with. */
export interface ChangeFilter {
  kind: string | undefined;
  namespace: string | undefined;
}

/** Typed access to the store's tables. */
export class StoreTables {
  private readonly db: DatabaseSync;
  private readonly statements = new Map<string, StatementSync>();

  constructor(db: DatabaseSync) {
    this.db = db;
  }

  /**
   * Run `work` in one IMMEDIATE transaction: all of it commits, or none of it. Not `durable`: committed without the
   * WAL's fsync (synchronous=NORMAL), for writes a power cut may lose; the connection is FULL again after it.
   */
  transaction<T>(work: () => T, options: { durable: boolean } = { durable: true }): T {
    if (!options.durable) this.db.exec("PRAGMA synchronous = NORMAL");
    try {
      this.db.exec("BEGIN IMMEDIATE");
      try {
        const result = work();
        this.db.exec("COMMIT");
        return result;
      } catch (error) {
        if (this.db.isTransaction) this.db.exec("ROLLBACK");
        throw error;
      }
    } finally {
      if (!options.durable) this.db.exec("PRAGMA synchronous = FULL");
    }
  }

  readObject(key: ObjectKey): string | undefined {
    const row = this.sql("SELECT object FROM objects WHERE kind = ? AND namespace = ? AND name = ?").get(key.kind, key.namespace, key.name);
    return row === undefined ? undefined : String(row["object"]);
  }

  listObjects(kind: string, namespace: string | undefined): string[] {
    const rows =
      namespace === undefined
        ? this.sql("SELECT object FROM objects WHERE kind = ? ORDER BY namespace, name").all(kind)
        : this.sql("SELECT object FROM objects WHERE kind = ? AND namespace = ? ORDER BY name").all(kind, namespace);
    return rows.map((row) => String(row["object"]));
  }

  /** Insert a new object; false (nothing written) when the name is taken. */
  insertObject(key: ObjectKey, uid: string, resourceVersion: number, json: string): boolean {
    const result = this.sql(
      `INSERT INTO objects (kind, namespace, name, uid, resource_version, object) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (kind, namespace, name) DO NOTHING`,
    ).run(key.kind, key.namespace, key.name, uid, resourceVersion, json);
    return Number(result.changes) > 0;
  }

  /** Replace an object the same transaction has read (an UPDATE by key: no uniqueness checks, unlike an upsert). */
  replaceObject(key: ObjectKey, resourceVersion: number, json: string): void {
    const result = this.sql("UPDATE objects SET resource_version = ?, object = ? WHERE kind = ? AND namespace = ? AND name = ?").run(
      resourceVersion,
      json,
      key.kind,
      key.namespace,
      key.name,
    );
    if (Number(result.changes) !== 1) throw new Error(`${key.kind} ${key.namespace}/${key.name} is not stored, so it cannot be replaced`);
  }

  deleteObject(key: ObjectKey): void {
    this.sql("DELETE FROM objects WHERE kind = ? AND namespace = ? AND name = ?").run(key.kind, key.namespace, key.name);
  }

  objectExists(uid: string): boolean {
    return this.sql("SELECT 1 AS found FROM objects WHERE uid = ?").get(uid) !== undefined;
  }

  setOwners(dependentUid: string, ownerUids: string[]): void {
    this.sql("DELETE FROM owner_references WHERE dependent_uid = ?").run(dependentUid);
    this.addOwners(dependentUid, ownerUids);
  }

  /** Owner rows of an object that has none yet (a new uid). */
  addOwners(dependentUid: string, ownerUids: string[]): void {
    if (ownerUids.length === 0) return;
    const insert = this.sql("INSERT INTO owner_references (owner_uid, dependent_uid) VALUES (?, ?)");
    for (const owner of ownerUids) insert.run(owner, dependentUid);
  }

  ownersOf(dependentUid: string): string[] {
    return this.sql("SELECT owner_uid FROM owner_references WHERE dependent_uid = ?").all(dependentUid).map((row) => String(row["owner_uid"]));
  }

  dependentsOf(ownerUid: string): ObjectKey[] {
    const rows = this.sql(
      `SELECT o.kind, o.namespace, o.name FROM owner_references r JOIN objects o ON o.uid = r.dependent_uid
       WHERE r.owner_uid = ? ORDER BY o.resource_version`,
    ).all(ownerUid);
    return rows.map((row) => ({ kind: String(row["kind"]), namespace: String(row["namespace"]), name: String(row["name"]) }));
  }

  appendChange(resourceVersion: number, type: string, key: ObjectKey, json: string): void {
    this.sql("INSERT INTO changes (resource_version, type, kind, namespace, name, object) VALUES (?, ?, ?, ?, ?, ?)").run(
      resourceVersion,
      type,
      key.kind,
      key.namespace,
      key.name,
      json,
    );
  }

  changesAfter(resourceVersion: number, filter: ChangeFilter): ChangeRow[] {
    const rows = this.sql(
      `SELECT resource_version, type, object FROM changes WHERE resource_version > ?
       AND (?2 IS NULL OR kind = ?2) AND (?3 IS NULL OR namespace = ?3) ORDER BY resource_version`,
    ).all(resourceVersion, filter.kind ?? null, filter.namespace ?? null);
    return rows.map((row) => ({ resource_version: Number(row["resource_version"]), type: String(row["type"]), object: String(row["object"]) }));
  }

  /** The resourceVersion of the newest change whose stored object satisfies `test`, scanning from the newest. */
  newestChangeWhere(test: (object: string) => boolean): number | undefined {
    for (const row of this.sql("SELECT resource_version, object FROM changes ORDER BY resource_version DESC").iterate()) {
      if (test(String(row["object"]))) return Number(row["resource_version"]);
    }
    return undefined;
  }

  /** Drop changes at or below `through` and remember how far history now reaches back; returns how many went. */
  compactThrough(through: number): number {
    if (through <= this.metaNumber("compacted_through")) return 0;
    const result = this.sql("DELETE FROM changes WHERE resource_version <= ?").run(through);
    this.setMetaNumber("compacted_through", through);
    return Number(result.changes);
  }

  compactedThrough(): number {
    return this.metaNumber("compacted_through");
  }

  resourceVersion(): number {
    return this.metaNumber("resource_version");
  }

  setResourceVersion(value: number): void {
    this.setMetaNumber("resource_version", value);
  }

  /** A bookkeeping value (a lease's transition count), undefined when never set. */
  meta(key: string): string | undefined {
    const row = this.sql("SELECT value FROM meta WHERE key = ?").get(key);
    return row === undefined ? undefined : String(row["value"]);
  }

  setMeta(key: string, value: string): void {
    this.sql("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(key, value);
  }

  private metaNumber(key: string): number {
    const row = this.sql("SELECT value FROM meta WHERE key = ?").get(key);
    return Number(row?.["value"] ?? 0);
  }

  private setMetaNumber(key: string, value: number): void {
    this.sql("UPDATE meta SET value = ? WHERE key = ?").run(String(value), key);
  }

  private sql(text: string): StatementSync {
    let statement = this.statements.get(text);
    if (statement === undefined) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }
}
