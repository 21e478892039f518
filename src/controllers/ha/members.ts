/** What the ha controller needs to act on instances: their engine context and credentials. */
import type { Cluster, Instance } from "../../api/index.ts";
import type { HomePaths } from "../../config/index.ts";
import type { Engine, EngineReplication, InstanceContext, ReplicationCredentials } from "../../engines/index.ts";
import type { InstanceUsers } from "../../runtime/index.ts";
import type { Store } from "../../store/index.ts";
import type { EngineLookup } from "../cluster/index.ts";
import { instanceContext, readAccounts, readReplicationCredentials } from "../../agent/index.ts";
import type { EventRecorder } from "../runtime/index.ts";

/** The services the ha controller works with. */
export interface HaServices {
  store: Store;
  engines: EngineLookup;
  events: EventRecorder;
  /** Engine commands on an instance run as its own OS user. */
  users: InstanceUsers;
  paths: HomePaths;
}

/** A replicated component being worked on: its cluster, engine and settings. */
export interface ComponentHandle {
  cluster: Cluster;
  component: string;
  engine: Engine;
  replication: EngineReplication;
}

/** The engine context of `instance` (its layout, version and parameters), as the instance controller builds it. */
export function contextOf(services: HaServices, engine: Engine, instance: Instance): Promise<InstanceContext> {
  return instanceContext(services.paths, services.engines, engine, instance);
}

/** The administrator and replication credentials of the component `instance` belongs to. */
export async function credentialsOf(services: HaServices, handle: ComponentHandle, instance: Instance): Promise<ReplicationCredentials> {
  const accounts = await readAccounts(services.store, instance, handle.engine);
  return readReplicationCredentials(services.store, instance, handle.replication, accounts);
}

/** The instances of a replicated component (those with spec.replication), not being deleted. */
export function componentMembers(instances: readonly Instance[], component: string): Instance[] {
  return instances
    .filter((i) => i.spec.componentName === component && i.spec.replication !== undefined && i.metadata.deletionTimestamp === undefined)
    .sort((a, b) => a.spec.ordinal - b.spec.ordinal);
}

/** The reference of instance `name` in the cluster's namespace. */
export function instanceRef(cluster: Cluster, name: string): { kind: string; namespace: string; name: string } {
  return { kind: "Instance", namespace: cluster.metadata.namespace ?? "default", name };
}

export function clusterRef(cluster: Cluster): { kind: string; namespace: string; name: string } {
  return { kind: "Cluster", namespace: cluster.metadata.namespace ?? "default", name: cluster.metadata.name };
}
