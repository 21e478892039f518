/** The ha controller: roles, switchover, failover and stable endpoints of replicated components. */
export * from "./settings.ts";
export * from "./plan.ts";
export { ClusterEndpoints, endpointsWithRecordedPorts, routedEndpoints, wantedEndpoints, type EndpointPortAllocator, type EndpointRouting } from "./endpoints.ts";
export { HaReconciler, type HaReconcilerOptions } from "./reconciler.ts";
