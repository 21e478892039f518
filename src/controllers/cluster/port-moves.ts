/**
 * Instances to move to a new port: the runtime reported their recorded port held by another program when it was
 * about to start them. The cluster controller is the one writer of an instance's `spec.port` (ADR 0015), so it
 * decides the move here and allocates the new port when acting.
 */
import type { Instance } from "../../api/index.ts";

/** An instance whose `spec.port` (`from`) is taken and must be replaced. */
export interface PortMove {
  name: string;
  from: number;
}

/** The live instances whose current port the runtime reported as taken, and which are meant to run (pure). */
export function portMoves(instances: readonly Instance[]): PortMove[] {
  return instances
    .filter((i) => i.metadata.deletionTimestamp === undefined && i.spec.running && i.status?.pid === undefined)
    .filter((i) => i.status?.portConflict?.port === i.spec.port)
    .map((i) => ({ name: i.metadata.name, from: i.spec.port }));
}
