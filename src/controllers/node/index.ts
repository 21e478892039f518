/** The node lifecycle controller: marks a Node whose heartbeat stopped not Ready, and its instances with it. */
export { NodeLifecycleReconciler, boundNodeKeys, type NodeLifecycleOptions } from "./reconciler.ts";
export { INSTANCE_NODE_READY, instanceNodeCondition, planNodeLifecycle, type NodeLifecyclePlan } from "./plan.ts";
