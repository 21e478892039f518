/** The DatabaseUser controller (ADR 0046): password Secrets, status from the instances, deletion once dropped. */
export { DatabaseUserReconciler, type DatabaseUserReconcilerOptions } from "./reconciler.ts";
export { appliedOn, holdersOf, remainingHolders, userStatus, type UserScope } from "./plan.ts";
