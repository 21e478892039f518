/** The cluster controller: Cluster → account Secrets and Instances, and the cluster's phase and conditions. */
export * from "./labels.ts";
export { encodeRebuildRequest, rebuildAnnotation, rebuildRequestOf, type RebuildRequest } from "./rebuild-request.ts";
export * from "./plan.ts";
export * from "./roles.ts";
export * from "./status.ts";
export * from "./resolve.ts";
export * from "./reconciler.ts";
export { holderComponents, readyHolders, type AccountHolders } from "./password-rotation.ts";
