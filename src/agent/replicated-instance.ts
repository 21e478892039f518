/** A running instance of a replicated component as the node agent works on it, and how it reports. */
import type { Instance, InstanceStatus } from "../api/index.ts";
import type { Engine, EngineReplication, HostAccess, InstanceContext } from "../engines/index.ts";

export interface ReplicatedInstance {
  instance: Instance;
  engine: Engine;
  replication: EngineReplication;
  context: InstanceContext;
  host: HostAccess;
}

/** How the agent writes the instance's status and records events (on the instance and its cluster). */
export interface ReplicationReporter {
  setStatus(changes: Partial<Record<keyof InstanceStatus, unknown>>): Promise<Instance>;
  record(type: "Normal" | "Warning", reason: string, message: string): Promise<void>;
}
