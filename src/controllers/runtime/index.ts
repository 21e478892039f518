/** The controller runtime: work queue, controller loop, events, conditions. */
export * from "./types.ts";
export * from "./work-queue.ts";
export * from "./controller.ts";
export * from "./event-recorder.ts";
export * from "./conditions.ts";
export * from "./finalizers.ts";
