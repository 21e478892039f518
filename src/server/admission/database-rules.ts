/**
 * Admission of Database (ADR 0053): the cluster and component exist and their engine has named databases (Redis has
 * none: refused naming the engine), the engine can honour the name, encoding and locale, the owner is the
 * administrator or a DatabaseUser of the component, no other Database declares the same database; the cluster,
 * component, name, encoding and locale are immutable.
 */
import { UNSUPPORTED_DATABASE_FIELDS, type Cluster, type Database, type DatabaseUser } from "../../api/index.ts";
import type { Engine } from "../../engines/index.ts";
import type { FieldCause } from "../../errors/index.ts";
import type { EngineDirectory } from "./cluster-rules.ts";
import { dataComponentEngine } from "./database-user-rules.ts";
import type { AdmissionContext } from "./types.ts";

/** The engine of the component, or why it has no named databases, as a cause (pure). */
function componentEngine(cluster: Cluster, component: string, engines: EngineDirectory): Engine | FieldCause {
  return dataComponentEngine(cluster, component, engines, (engine) => (engine?.databases === undefined ? "has no named databases Holdfast manages" : undefined));
}

/** The owner: the administrator (absent or named) or the username of a DatabaseUser of the same component (pure). */
export function ownerCause(database: Database, engine: Engine, users: readonly DatabaseUser[]): FieldCause | undefined {
  const owner = database.spec.owner;
  const admin = engine.systemAccounts[0]?.name;
  if (owner === undefined || owner === admin) return undefined;
  const { clusterName, componentName } = database.spec;
  const user = users.find((u) => u.spec.clusterName === clusterName && u.spec.componentName === componentName && u.spec.username === owner && u.metadata.deletionTimestamp === undefined);
  if (user !== undefined) return undefined;
  return { field: "spec.owner", reason: "FieldValueNotFound", message: `Not found: no DatabaseUser of ${clusterName}/${componentName} has username ${owner}; create it first, or leave owner out (the administrator ${admin ?? ""} owns it)` };
}

/** CloudNativePG's fields Holdfast does not honour, each refused by name (pure). */
export function unsupportedFieldCauses(database: Database): FieldCause[] {
  const spec = database.spec as Record<string, unknown>;
  return Object.entries(UNSUPPORTED_DATABASE_FIELDS)
    .filter(([field]) => spec[field] !== undefined)
    .map(([field, why]) => ({ field: `spec.${field}`, reason: "FieldValueNotSupported", message: `Unsupported value: ${why}` }));
}

/** Causes from the spec against the cluster's engine and the namespace's DatabaseUsers (pure). */
export function databaseCauses(database: Database, cluster: Cluster, engines: EngineDirectory, users: readonly DatabaseUser[]): FieldCause[] {
  const unsupported = unsupportedFieldCauses(database);
  const engine = componentEngine(cluster, database.spec.componentName, engines);
  if (!("name" in engine)) return [...unsupported, engine];
  const causes: FieldCause[] = [...unsupported, ...(engine.databases?.problems(database.spec) ?? []).map((p) => ({ field: `spec.${p.field}`, reason: "FieldValueNotSupported", message: `Unsupported value: ${p.message}` }))];
  const owner = ownerCause(database, engine, users);
  return owner === undefined ? causes : [...causes, owner];
}

/** What a database is made with cannot change: delete the Database (with retain) and create another (pure). */
export function immutableDatabaseCauses(database: Database, old: Database | undefined): FieldCause[] {
  if (old === undefined) return [];
  const fields = ["clusterName", "componentName", "name", "encoding", "locale"] as const;
  return fields
    .filter((f) => database.spec[f] !== old.spec[f])
    .map((f) => ({ field: `spec.${f}`, reason: "FieldValueInvalid", message: "Invalid value: field is immutable: a database is created with it; declare another Database" }));
}

/** Another Database of the namespace declares the same database of the same component (pure). */
export function duplicateDatabaseCause(database: Database, others: readonly Database[]): FieldCause | undefined {
  const { clusterName, componentName, name } = database.spec;
  const same = others.find((o) => o.metadata.name !== database.metadata.name && o.spec.clusterName === clusterName && o.spec.componentName === componentName && o.spec.name === name);
  return same === undefined ? undefined : { field: "spec.name", reason: "FieldValueDuplicate", message: `Duplicate value: database ${same.metadata.name} already declares ${name} on ${clusterName}/${componentName}` };
}

/** Every cause of a Database write. */
export async function databaseWriteCauses(database: Database, old: Database | undefined, context: AdmissionContext): Promise<FieldCause[]> {
  const immutable = immutableDatabaseCauses(database, old);
  if (immutable.length > 0) return immutable;
  const namespace = database.metadata.namespace ?? "default";
  const cluster = await context.store.get<Cluster>({ kind: "Cluster", namespace, name: database.spec.clusterName });
  // A missing cluster is the references' cause; a Database whose cluster is being deleted may still be deleted.
  if (cluster === undefined) return [];
  const users = (await context.store.list<DatabaseUser>("DatabaseUser", { namespace })).items;
  const causes = databaseCauses(database, cluster, context.engines, users);
  if (old !== undefined) return causes;
  const duplicate = duplicateDatabaseCause(database, (await context.store.list<Database>("Database", { namespace })).items);
  return duplicate === undefined ? causes : [...causes, duplicate];
}
