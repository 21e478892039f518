/** Wires the ha controller: its endpoint listeners live as long as it runs. */
import { ENDPOINT_PORT_RANGE, type HomePaths } from "../config/index.ts";
import type { EngineLookup } from "../controllers/cluster/index.ts";
import { ClusterEndpoints, HaReconciler } from "../controllers/ha/index.ts";
import { Controller, createEventRecorder, ownerKeys } from "../controllers/runtime/index.ts";
import { EndpointRegistry, type InstanceUsers, type PortReservations } from "../runtime/index.ts";
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
}

/** The ha controller, keyed by cluster; stopping it closes the cluster endpoints (clients reconnect after a restart). */
export function createHaController(deps: HaControllerDeps): Controller {
  const { store, logger } = deps;
  const events = createEventRecorder(store, "ha-controller", logger);
  const registry = new EndpointRegistry();
  const endpoints = new ClusterEndpoints({ registry, store, events, allocate: (inUse) => deps.ports.allocate(ENDPOINT_PORT_RANGE, inUse) });
  return new Controller({
    name: "ha",
    store,
    logger,
    workers: 4,
    watches: [{ kind: "Cluster" }, { kind: "Instance", keysFor: ownerKeys("Cluster") }],
    reconciler: new HaReconciler({ store, engines: deps.engines, events, endpoints }),
    onStop: () => registry.closeAll(),
  });
}
