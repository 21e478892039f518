/** The replicated components the ha controller works on, and the references it writes to. */
import type { Cluster, Instance } from "../../api/index.ts";
import type { Engine, EngineReplication } from "../../engines/index.ts";
import type { Store } from "../../store/index.ts";
import type { EngineLookup } from "../cluster/index.ts";
import type { EventRecorder } from "../runtime/index.ts";

/** The services the ha controller works with: objects only, never a process or a file (ADR 0021). */
export interface HaServices {
  store: Store;
  engines: EngineLookup;
  events: EventRecorder;
}

/** A replicated component being worked on: its cluster, engine and settings. */
export interface ComponentHandle {
  cluster: Cluster;
  component: string;
  engine: Engine;
  replication: EngineReplication;
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
