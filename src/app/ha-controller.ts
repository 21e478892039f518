/** Wires the ha controller: it records the clusters' endpoints, which every node's agent serves. */
import { ENDPOINT_PORT_RANGE, type HomePaths } from "../config/index.ts";
import type { EngineLookup } from "../controllers/cluster/index.ts";
import { ClusterEndpoints, HaReconciler } from "../controllers/ha/index.ts";
import { Controller, createEventRecorder, ownerKeys } from "../controllers/runtime/index.ts";
import type { InstanceUsers, PortReservations } from "../runtime/index.ts";
import type { Store } from "../store/index.ts";
import type { Logger } from "../util/index.ts";

/** What the ha controller is built from (a subset of the controllers' dependencies). */
export interface HaControllerDeps {
  store: Store;
  engines: EngineLookup;
  users: InstanceUsers;
  paths: HomePaths;
  logger: Logger;
  ports: PortReservations;
  /** This node's name: its node agent runs in this process, beside the controllers. */
  nodeName?: string;
}

/** The ha controller, keyed by cluster; stopping it leaves the endpoints served as last recorded. */
export function createHaController(deps: HaControllerDeps): Controller {
  const { store, logger } = deps;
  const events = createEventRecorder(store, "ha-controller", logger);
  const endpoints = new ClusterEndpoints({ store, events, allocate: (inUse) => deps.ports.allocate(ENDPOINT_PORT_RANGE, inUse) });
  return new Controller({
    name: "ha",
    store,
    logger,
    workers: 4,
    watches: [{ kind: "Cluster" }, { kind: "Instance", keysFor: ownerKeys("Cluster") }],
    reconciler: new HaReconciler({ store, engines: deps.engines, events, endpoints, ...(deps.nodeName === undefined ? {} : { nodeName: deps.nodeName }) }),
  });
}
