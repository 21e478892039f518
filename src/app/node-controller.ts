/** Wires the node lifecycle controller (control plane): Nodes whose heartbeat stopped, and their instances. */
import { boundNodeKeys, NodeLifecycleReconciler } from "../controllers/node/index.ts";
import { Controller, createEventRecorder } from "../controllers/runtime/index.ts";
import type { Store } from "../store/index.ts";
import type { Logger } from "../util/index.ts";

/** The node lifecycle controller, keyed by node name; an instance's change wakes its node. */
export function createNodeLifecycleController(deps: { store: Store; logger: Logger }): Controller {
  const { store, logger } = deps;
  return new Controller({
    name: "node-lifecycle",
    store,
    logger,
    watches: [{ kind: "Node" }, { kind: "Instance", keysFor: boundNodeKeys }],
    reconciler: new NodeLifecycleReconciler({ store, events: createEventRecorder(store, "node-lifecycle-controller", logger) }),
  });
}
