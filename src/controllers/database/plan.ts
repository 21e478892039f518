/** Where a Database stands, from the instances of its component (pure; ADR 0053). */
import { DATABASE_FAILED_MARK, databaseSpecDigest, type Database, type DatabaseStatus, type Instance } from "../../api/index.ts";

function ofComponent(database: Database, instances: readonly Instance[]): Instance[] {
  return instances.filter((i) => i.spec.clusterName === database.spec.clusterName && i.spec.componentName === database.spec.componentName);
}

/** The running primary of the database's component, which applies it, or undefined. */
export function primaryOf(database: Database, instances: readonly Instance[]): Instance | undefined {
  return ofComponent(database, instances).find((i) => i.metadata.deletionTimestamp === undefined && i.status?.ready === true && i.status.role === "primary");
}

/** What the spec as it is now says once applied (pure). */
function readyMessage(database: Database, on: string): string {
  const s = database.spec;
  if (s.ensure === "absent") return `database ${s.name} absent on ${on}`;
  return `database ${s.name} present on ${on}, owner ${s.owner ?? "the administrator"}, connection limit ${s.connectionLimit}${s.allowConnections ? "" : ", no connections allowed"}`;
}

/** The status of a live Database (pure). */
export function databaseStatus(database: Database, instances: readonly Instance[]): DatabaseStatus {
  const generation = database.metadata.generation === undefined ? {} : { observedGeneration: database.metadata.generation };
  const primary = primaryOf(database, instances);
  if (primary === undefined) return { ...generation, phase: "Pending", message: `no running primary of component ${database.spec.componentName} yet: applied when one runs`, appliedOn: [] };
  const on = primary.metadata.name;
  const digest = databaseSpecDigest(database);
  const record = primary.status?.managedDatabases?.[database.spec.name];
  if (record === digest) return { ...generation, phase: "Ready", message: readyMessage(database, on), appliedOn: [on] };
  const failed = `${digest}${DATABASE_FAILED_MARK}`;
  if (record?.startsWith(failed) === true) return { ...generation, phase: "Failed", message: `not applied on ${on}, retrying: ${record.slice(failed.length)}` };
  return { ...generation, phase: "Pending", message: `being applied on ${on}`, appliedOn: [] };
}

/** The instances that still record a Database being deleted (the primary drops it or lets it go; others forget it). */
export function remainingRecords(database: Database, instances: readonly Instance[]): { holding: string[]; stopped: string[] } {
  const holding = ofComponent(database, instances).filter((i) => i.status?.managedDatabases?.[database.spec.name] !== undefined);
  return { holding: holding.map((i) => i.metadata.name), stopped: holding.filter((i) => i.status?.ready !== true).map((i) => i.metadata.name) };
}
