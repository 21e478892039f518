/** Restores into new clusters: the Restore kind's controller, and the cluster creation it shares with the Restore OpsRequest. */
export { RestoreReconciler, type RestoreReconcilerOptions } from "./reconciler.ts";
export { createRestoredCluster } from "./restored-cluster.ts";
