/** Resource kinds, their schemas and the shapes shared by all of them. */
export * from "./meta.ts";
export * from "./kinds.ts";
export * from "./common.ts";
export * from "./field-support.ts";
export * from "./cluster.ts";
export * from "./ops-request.ts";
export * from "./instance.ts";
export * from "./replication.ts";
export * from "./core.ts";
export * from "./cluster-engine.ts";
export * from "./rbac.ts";
export * from "./retention-period.ts";
export * from "./backup-repo.ts";
export * from "./backup-policy.ts";
export * from "./backup.ts";
export * from "./backup-schedule.ts";
export * from "./cluster-restore.ts";
