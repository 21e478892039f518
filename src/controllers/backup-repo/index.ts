/** The BackupRepo controller: repositories checked and reported Ready or Failed. */
export { BackupRepoReconciler, type BackupRepoReconcilerOptions } from "./reconciler.ts";
