/** The Database controller (ADR 0053): status from the primary's record, deletion once dropped or let go of. */
export { DatabaseReconciler, type DatabaseReconcilerOptions } from "./reconciler.ts";
export { databaseStatus, primaryOf, remainingRecords } from "./plan.ts";
