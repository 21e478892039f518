/** The BackupPolicy controller: one policy per cluster component, named `<cluster>-<component>-backup-policy`. */
export { BackupPolicyReconciler, desiredPolicies, type BackupPolicyReconcilerOptions } from "./reconciler.ts";
