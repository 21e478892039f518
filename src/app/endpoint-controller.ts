/** Wires this node's endpoints: every cluster's recorded endpoints served on the node's advertised address (exposed ones on its external address). */
import { EndpointReconciler } from "../agent/index.ts";
import { componentEngine, type EngineLookup } from "../controllers/cluster/index.ts";
import { Controller, createEventRecorder } from "../controllers/runtime/index.ts";
import { EndpointRegistry } from "../runtime/index.ts";
import type { Store } from "../store/index.ts";
import type { Logger } from "../util/index.ts";

/** What the endpoint controller is built from (a subset of the node agent's dependencies). */
export interface EndpointControllerDeps {
  store: Store;
  logger: Logger;
  nodeName: string;
  /** The address other machines reach this node at: its endpoints listen there. */
  advertise: string;
  /** The node's external address: its exposed endpoints listen there (absent: it serves none). */
  externalAddress?: string | undefined;
  engines: EngineLookup;
}


/** The node agent's endpoint controller, keyed by cluster; stopping it closes this node's endpoints (clients reconnect, here or on another node). */
export function createEndpointController(deps: EndpointControllerDeps): Controller {
  const { store, logger } = deps;
  const registry = new EndpointRegistry();
  const events = createEventRecorder(store, "node-agent-endpoints", logger);
  return new Controller({
    name: "endpoints",
    store,
    logger,
    workers: 2,
    watches: [{ kind: "Cluster" }],
    reconciler: new EndpointReconciler({
      store,
      registry,
      addresses: { advertise: deps.advertise, external: deps.externalAddress },
      tlsStartOf: (cluster, component) => componentEngine(cluster, component, deps.engines)?.clientTlsStart,
      nodeName: deps.nodeName,
      events,
      logger,
    }),
    onStop: () => registry.closeAll(),
  });
}
