/** Resource kinds, their schemas and the shapes shared by all of them. */
export * from "./meta.ts";
export * from "./kinds.ts";
export * from "./common.ts";
export * from "./cluster.ts";
export * from "./ops-request.ts";
export * from "./instance.ts";
export * from "./core.ts";
export * from "./cluster-engine.ts";
export * from "./rbac.ts";
