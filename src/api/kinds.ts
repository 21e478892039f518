/** The registry of resource kinds: API group/version, names and scope. */

/** Static facts about one kind, as API discovery reports them. */
export interface KindInfo {
  kind: string;
  group: string;
  version: string;
  plural: string;
  singular: string;
  shortNames: string[];
  namespaced: boolean;
}

const KINDS: readonly KindInfo[] = [
  { kind: "Namespace", group: "", version: "v1", plural: "namespaces", singular: "namespace", shortNames: ["ns"], namespaced: false },
  { kind: "Secret", group: "", version: "v1", plural: "secrets", singular: "secret", shortNames: [], namespaced: true },
  { kind: "Event", group: "", version: "v1", plural: "events", singular: "event", shortNames: ["ev"], namespaced: true },
  { kind: "Cluster", group: "apps.kubeblocks.io", version: "v1", plural: "clusters", singular: "cluster", shortNames: ["cl"], namespaced: true },
  { kind: "OpsRequest", group: "operations.kubeblocks.io", version: "v1alpha1", plural: "opsrequests", singular: "opsrequest", shortNames: ["ops"], namespaced: true },
  { kind: "OpsDefinition", group: "operations.kubeblocks.io", version: "v1alpha1", plural: "opsdefinitions", singular: "opsdefinition", shortNames: ["opsdef"], namespaced: false },
  { kind: "Role", group: "rbac.authorization.k8s.io", version: "v1", plural: "roles", singular: "role", shortNames: [], namespaced: true },
  { kind: "ClusterRole", group: "rbac.authorization.k8s.io", version: "v1", plural: "clusterroles", singular: "clusterrole", shortNames: [], namespaced: false },
  { kind: "RoleBinding", group: "rbac.authorization.k8s.io", version: "v1", plural: "rolebindings", singular: "rolebinding", shortNames: [], namespaced: true },
  { kind: "ClusterRoleBinding", group: "rbac.authorization.k8s.io", version: "v1", plural: "clusterrolebindings", singular: "clusterrolebinding", shortNames: [], namespaced: false },
  { kind: "BackupRepo", group: "dataprotection.kubeblocks.io", version: "v1alpha1", plural: "backuprepos", singular: "backuprepo", shortNames: [], namespaced: false },
  { kind: "BackupPolicy", group: "dataprotection.kubeblocks.io", version: "v1alpha1", plural: "backuppolicies", singular: "backuppolicy", shortNames: ["bp"], namespaced: true },
  { kind: "Backup", group: "dataprotection.kubeblocks.io", version: "v1alpha1", plural: "backups", singular: "backup", shortNames: [], namespaced: true },
  { kind: "BackupSchedule", group: "dataprotection.kubeblocks.io", version: "v1alpha1", plural: "backupschedules", singular: "backupschedule", shortNames: [], namespaced: true },
  { kind: "Restore", group: "dataprotection.kubeblocks.io", version: "v1alpha1", plural: "restores", singular: "restore", shortNames: [], namespaced: true },
  { kind: "Lease", group: "coordination.k8s.io", version: "v1", plural: "leases", singular: "lease", shortNames: [], namespaced: true },
  { kind: "Instance", group: "holdfast.io", version: "v1alpha1", plural: "instances", singular: "instance", shortNames: ["inst"], namespaced: true },
  { kind: "PodMonitor", group: "monitoring.coreos.com", version: "v1", plural: "podmonitors", singular: "podmonitor", shortNames: ["pmon"], namespaced: true },
  { kind: "ServiceMonitor", group: "monitoring.coreos.com", version: "v1", plural: "servicemonitors", singular: "servicemonitor", shortNames: ["smon"], namespaced: true },
  { kind: "PrometheusRule", group: "monitoring.coreos.com", version: "v1", plural: "prometheusrules", singular: "prometheusrule", shortNames: ["promrule"], namespaced: true },
  { kind: "Node", group: "holdfast.io", version: "v1alpha1", plural: "nodes", singular: "node", shortNames: ["no"], namespaced: false },
  { kind: "Incident", group: "holdfast.io", version: "v1", plural: "incidents", singular: "incident", shortNames: ["inc"], namespaced: true },
  { kind: "NotificationChannel", group: "holdfast.io", version: "v1", plural: "notificationchannels", singular: "notificationchannel", shortNames: ["nc"], namespaced: true },
  { kind: "SecuritySignal", group: "holdfast.io", version: "v1", plural: "securitysignals", singular: "securitysignal", shortNames: [], namespaced: true },
  { kind: "DatabaseUser", group: "holdfast.io", version: "v1", plural: "databaseusers", singular: "databaseuser", shortNames: ["dbuser"], namespaced: true },
  { kind: "Database", group: "holdfast.io", version: "v1", plural: "databases", singular: "database", shortNames: ["db"], namespaced: true },
  { kind: "DetectionState", group: "holdfast.io", version: "v1", plural: "detectionstates", singular: "detectionstate", shortNames: [], namespaced: true },
];

/** Every kind Holdfast serves. */
export function allKinds(): readonly KindInfo[] {
  return KINDS;
}

/** `apiVersion` string of a kind: `v1` for the core group, else `group/version`. */
export function apiVersionOf(info: KindInfo): string {
  return info.group === "" ? info.version : `${info.group}/${info.version}`;
}

/** Look a kind up by its Kind, plural, singular or short name (case-insensitive), with an optional `.group` suffix. */
export function findKind(name: string): KindInfo | undefined {
  const lower = name.toLowerCase();
  const dot = lower.indexOf(".");
  const bare = dot === -1 ? lower : lower.slice(0, dot);
  const group = dot === -1 ? undefined : lower.slice(dot + 1);
  return KINDS.find(
    (k) =>
      (group === undefined || k.group === group) &&
      (k.kind.toLowerCase() === bare || k.plural === bare || k.singular === bare || k.shortNames.includes(bare)),
  );
}

/** Look a kind up by `apiVersion` and `kind` as written in a manifest. */
export function kindOf(apiVersion: string, kind: string): KindInfo | undefined {
  return KINDS.find((k) => k.kind === kind && apiVersionOf(k) === apiVersion);
}

/** The kind info for a Kind name; throws when the kind is unknown (a programming error). */
export function mustKind(kind: string): KindInfo {
  const info = KINDS.find((k) => k.kind === kind);
  if (!info) throw new Error(`unknown kind ${kind}`);
  return info;
}
