/** The OpsRequest controller. */
export * from "./progress.ts";
export * from "./reconciler.ts";
export * from "./switchover.ts";
