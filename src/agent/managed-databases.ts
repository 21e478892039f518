/**
 * The node agent's part of managed databases (Database, ADR 0053): on the running primary of a component (databases
 * replicate), make each Database of the component what its spec says through the engine, drop the ones whose
 * reclaim policy is delete when they are deleted, and let go of the others. What it applied is recorded in
 * `status.managedDatabases[<name on the server>]` as the spec's digest (or `<digest>!<reason>` when it failed: the
 * controller reports it, the agent retries at each pass); a changed spec (a new digest) applies again, and so does a
 * new primary, whose record starts empty.
 */
import { DATABASE_FAILED_MARK, databaseSpecDigest, type Database, type Instance, type ServerDatabase } from "../api/index.ts";
import { errorMessage } from "../errors/index.ts";
import type { EngineDatabases } from "../engines/index.ts";
import type { EventRecorder } from "../controllers/runtime/index.ts";
import type { Store } from "../store/index.ts";
import { readAccount } from "./accounts.ts";
import type { UserHolder } from "./managed-users.ts";

/** What to do for one database on one instance (pure). */
export type DatabaseStep =
  | { action: "apply"; database: Database; digest: string }
  | { action: "drop"; database: Database; name: string }
  | { action: "forget"; name: string };

/** The reasons of failures are kept short in the instance's status. */
const REASON_MAX = 300;

/** The primary's step for one Database (pure): apply a live one not recorded as is, drop or let go of a deleted one. */
function primaryStep(database: Database, record: string | undefined): DatabaseStep | undefined {
  const name = database.spec.name;
  if (database.metadata.deletionTimestamp !== undefined) {
    if (database.spec.databaseReclaimPolicy === "delete") return { action: "drop", database, name };
    return record === undefined ? undefined : { action: "forget", name };
  }
  const digest = databaseSpecDigest(database);
  return record === digest ? undefined : { action: "apply", database, digest };
}

/** Each step for the instance (pure): only the primary applies and drops; any other instance forgets what it recorded. */
export function databaseSteps(instance: Instance, databases: readonly Database[]): DatabaseStep[] {
  const mine = databases.filter((d) => d.spec.clusterName === instance.spec.clusterName && d.spec.componentName === instance.spec.componentName);
  const recorded = instance.status?.managedDatabases ?? {};
  const primary = instance.status?.role === "primary";
  const steps: DatabaseStep[] = [];
  for (const database of primary ? mine : []) {
    const step = primaryStep(database, recorded[database.spec.name]);
    if (step !== undefined) steps.push(step);
  }
  const live = new Set(primary ? mine.filter((d) => d.metadata.deletionTimestamp === undefined).map((d) => d.spec.name) : []);
  const stepped = new Set(steps.map((s) => (s.action === "apply" ? s.database.spec.name : s.name)));
  for (const name of Object.keys(recorded)) if (!live.has(name) && !stepped.has(name)) steps.push({ action: "forget", name });
  return steps;
}

/** The fields of a Database the engine applies (pure). */
export function serverDatabase(database: Database): ServerDatabase {
  const { name, owner, ensure, encoding, locale, connectionLimit, allowConnections } = database.spec;
  return { name, ensure, connectionLimit, allowConnections, ...(owner === undefined ? {} : { owner }), ...(encoding === undefined ? {} : { encoding }), ...(locale === undefined ? {} : { locale }) };
}

/** The record of a failed step: the digest it was for, and why, short (pure). */
export function failedRecord(digest: string, reason: string): string {
  const flat = reason.replaceAll(/\s+/g, " ");
  return `${digest}${DATABASE_FAILED_MARK}${flat.length > REASON_MAX ? `${flat.slice(0, REASON_MAX - 1)}…` : flat}`;
}

/** Writes the instance's `status.managedDatabases` and returns the instance as written. */
export type ManagedDatabasesWriter = (managedDatabases: Record<string, string> | undefined) => Promise<Instance>;

/** Carry out one step: the new record of the database (undefined: none). */
async function carryOut(h: UserHolder, store: Store, databases: EngineDatabases, step: DatabaseStep): Promise<string | undefined> {
  if (step.action === "forget") return undefined;
  const admin = await readAccount(store, h.instance, h.engine.systemAccounts[0]?.name ?? "");
  if (step.action === "drop") {
    await databases.drop(h.context, admin, step.name, h.trust);
    return undefined;
  }
  await databases.apply(h.context, admin, serverDatabase(step.database), h.trust);
  return step.digest;
}

function stepName(step: DatabaseStep): string {
  return step.action === "apply" ? step.database.spec.name : step.name;
}

/** The new record map with `name` set to `record` (undefined: removed), or undefined when it is empty (pure). */
function withRecord(recorded: Record<string, string>, name: string, record: string | undefined): Record<string, string> | undefined {
  const { [name]: _old, ...others } = recorded;
  const next = record === undefined ? others : { ...others, [name]: record };
  return Object.keys(next).length === 0 ? undefined : next;
}

/** A step that failed: recorded (the controller reports it) and, when the reason is new, an event on its Database. */
async function recordFailure(h: UserHolder, at: { events: EventRecorder; write: ManagedDatabasesWriter; step: DatabaseStep }, reason: string): Promise<Instance> {
  const { step } = at;
  if (step.action === "forget") return h.instance;
  const recorded = h.instance.status?.managedDatabases ?? {};
  const digest = databaseSpecDigest(step.database);
  const record = failedRecord(digest, reason);
  if (recorded[stepName(step)] === record) return h.instance;
  const verb = step.action === "apply" ? "applied" : "dropped";
  await at.events.record(step.database, "Warning", step.action === "apply" ? "ApplyFailed" : "DropFailed", `database ${step.database.spec.name} not ${verb} on ${h.instance.metadata.name}, retrying: ${reason}`);
  return at.write(withRecord(recorded, step.database.spec.name, record));
}

/** Apply, drop and let go of the managed databases of the instance's component; failures are recorded and reported. */
export async function tendManagedDatabases(h: UserHolder, store: Store, events: EventRecorder, write: ManagedDatabasesWriter): Promise<Instance> {
  const databases = h.engine.databases;
  if (databases === undefined) return h.instance;
  const listed = await store.list<Database>("Database", { namespace: h.instance.metadata.namespace ?? "default" });
  let instance = h.instance;
  for (const step of databaseSteps(instance, listed.items)) {
    try {
      const record = await carryOut({ ...h, instance }, store, databases, step);
      instance = await write(withRecord(instance.status?.managedDatabases ?? {}, stepName(step), record));
    } catch (error) {
      instance = await recordFailure({ ...h, instance }, { events, write, step }, errorMessage(error));
    }
  }
  return instance;
}
