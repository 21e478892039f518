/**
 * The built-in ClusterRoles and ClusterRoleBindings, as Kubernetes bootstraps its user-facing roles:
 * cluster-admin, admin, edit and view, plus Holdfast's auditor and monitoring.
 */
import { RBAC_API_VERSION, RBAC_GROUP, type ClusterRole, type ClusterRoleBinding, type PolicyRule } from "../../api/index.ts";
import { AUTHENTICATED_GROUP } from "../identity.ts";

/** The label every bootstrap RBAC object carries. */
export const BOOTSTRAP_LABEL = { "kubernetes.io/bootstrapping": "rbac-defaults" } as const;
/** Set to "false" on a built-in object to keep Holdfast from resetting it at start. */
export const AUTOUPDATE_ANNOTATION = "rbac.authorization.kubernetes.io/autoupdate";
/** Members of this group are cluster administrators, as in Kubernetes. */
export const MASTERS_GROUP = "system:masters";

/** Names of the built-in ClusterRoles. */
export const BUILTIN_ROLE_NAMES = {
  clusterAdmin: "cluster-admin",
  admin: "admin",
  edit: "edit",
  view: "view",
  auditor: "auditor",
  monitoring: "monitoring",
  basicUser: "system:basic-user",
} as const;

const READ = ["get", "list", "watch"];
const READ_WRITE = [...READ, "create", "update", "patch", "delete", "deletecollection"];
const KUBEBLOCKS_APPS = "apps.kubeblocks.io";
const KUBEBLOCKS_OPS = "operations.kubeblocks.io";
const KUBEBLOCKS_DATA = "dataprotection.kubeblocks.io";
/** Backups can be taken and changed by editors; deleting one destroys a way back, so it is a separate grant (admin). */
const BACKUP_WRITE = ["create", "update", "patch"];
const HOLDFAST = "holdfast.io";
const MONITORING = "monitoring.coreos.com";
/** The non-resource URLs a Prometheus reads: the metrics, the scrape targets (http_sd_configs) and the rule files. */
export const MONITORING_URLS = ["/metrics", "/monitoring/targets", "/monitoring/rules"] as const;

function rule(apiGroup: string, resources: string[], verbs: string[]): PolicyRule {
  return { apiGroups: [apiGroup], resources, verbs };
}

// What every role that can look at a namespace may read; status subresources are written by controllers only.
const VIEW_RULES: PolicyRule[] = [
  rule("", ["events", "namespaces"], READ),
  rule(KUBEBLOCKS_APPS, ["clusters", "clusters/status"], READ),
  rule(KUBEBLOCKS_OPS, ["opsrequests", "opsrequests/status"], READ),
  // OpsDefinitions are cluster-scoped: readable where the role is bound cluster-wide; written by cluster-admin only.
  rule(KUBEBLOCKS_OPS, ["opsdefinitions", "opsdefinitions/status"], READ),
  rule(HOLDFAST, ["instances", "instances/status"], READ),
  // Managed users name their grants, never a password (that is in their Secret).
  rule(HOLDFAST, ["databaseusers", "databaseusers/status"], READ),
  rule(HOLDFAST, ["databases", "databases/status"], READ),
  // Nodes are cluster-scoped: readable where the role is bound cluster-wide; only Holdfast itself writes them.
  rule(HOLDFAST, ["nodes", "nodes/status"], READ),
  rule(KUBEBLOCKS_DATA, ["backups", "backups/status", "backuppolicies", "backuppolicies/status", "backupschedules", "backupschedules/status", "backuprepos", "backuprepos/status", "restores", "restores/status"], READ),
  // Incidents (namespace holdfast-system) hold user names, addresses and audit IDs, never a secret value.
  rule(HOLDFAST, ["incidents"], READ),
  rule(MONITORING, ["podmonitors", "servicemonitors", "prometheusrules"], READ),
];

// As in Kubernetes, edit reads and writes Secrets: whoever can change a workload can read what it runs with.
const EDIT_RULES: PolicyRule[] = [
  ...VIEW_RULES,
  rule("", ["secrets"], READ_WRITE),
  rule(KUBEBLOCKS_APPS, ["clusters"], READ_WRITE),
  rule(KUBEBLOCKS_OPS, ["opsrequests"], READ_WRITE),
  // Application users and their grants, as editors write clusters; their passwords are in Secrets, which edit reads.
  rule(HOLDFAST, ["databaseusers"], READ_WRITE),
  // Databases: created, changed and dropped as editors write clusters (ADR 0053).
  rule(HOLDFAST, ["databases"], READ_WRITE),
  rule(KUBEBLOCKS_DATA, ["backups"], BACKUP_WRITE),
  // Verifying re-reads a whole backup: a write-sized cost, so it is granted with taking backups.
  rule(KUBEBLOCKS_DATA, ["backups/verify"], ["create"]),
  rule(KUBEBLOCKS_DATA, ["backuppolicies", "backupschedules"], READ_WRITE),
  // A Restore creates a cluster (admission checks its writer may create clusters too) and reads its backup.
  rule(KUBEBLOCKS_DATA, ["restores"], READ_WRITE),
  // A database's own log may show statements and client addresses: read with edit, not view.
  rule(HOLDFAST, ["instances/log"], ["get"]),
  // What is scraped and which alerts fire, as KubeBlocks' users write them beside their clusters.
  rule(MONITORING, ["podmonitors", "servicemonitors", "prometheusrules"], READ_WRITE),
];

const ADMIN_RULES: PolicyRule[] = [
  ...EDIT_RULES,
  rule("", ["events"], READ_WRITE),
  rule(HOLDFAST, ["instances"], READ_WRITE),
  // Who leads the control plane (read only: nobody writes a Lease through the API).
  rule("coordination.k8s.io", ["leases"], READ),
  rule(RBAC_GROUP, ["roles", "rolebindings"], READ_WRITE),
  rule(KUBEBLOCKS_DATA, ["backups"], ["delete", "deletecollection"]),
  // Incident response (where bound in holdfast-system): act on incidents, manage where they are announced.
  rule(HOLDFAST, ["incidents/acknowledge", "incidents/resolve", "incidents/contain"], ["update"]),
  rule(HOLDFAST, ["notificationchannels"], READ_WRITE),
];

function clusterRole(name: string, rules: PolicyRule[]): ClusterRole {
  return {
    apiVersion: RBAC_API_VERSION,
    kind: "ClusterRole",
    metadata: { name, labels: { ...BOOTSTRAP_LABEL }, annotations: { [AUTOUPDATE_ANNOTATION]: "true" } },
    rules,
  };
}

function groupBinding(name: string, roleName: string, group: string): ClusterRoleBinding {
  return {
    apiVersion: RBAC_API_VERSION,
    kind: "ClusterRoleBinding",
    metadata: { name, labels: { ...BOOTSTRAP_LABEL }, annotations: { [AUTOUPDATE_ANNOTATION]: "true" } },
    roleRef: { apiGroup: RBAC_GROUP, kind: "ClusterRole", name: roleName },
    subjects: [{ kind: "Group", apiGroup: RBAC_GROUP, name: group }],
  };
}

/** The built-in ClusterRoles, fresh copies. */
export function builtinClusterRoles(): ClusterRole[] {
  return [
    clusterRole(BUILTIN_ROLE_NAMES.clusterAdmin, [rule("*", ["*"], ["*"]), { verbs: ["*"], nonResourceURLs: ["*"] }]),
    clusterRole(BUILTIN_ROLE_NAMES.admin, ADMIN_RULES),
    clusterRole(BUILTIN_ROLE_NAMES.edit, EDIT_RULES),
    clusterRole(BUILTIN_ROLE_NAMES.view, VIEW_RULES),
    clusterRole(BUILTIN_ROLE_NAMES.auditor, [rule("audit.holdfast.io", ["auditevents"], ["get", "list"])]),
    // A Prometheus's account: it reads the metrics, its targets and the alert rules, and nothing else (no object).
    clusterRole(BUILTIN_ROLE_NAMES.monitoring, [{ verbs: ["get"], nonResourceURLs: [...MONITORING_URLS] }]),
    // Anyone signed in may ask "can I?", as Kubernetes' system:basic-user allows.
    clusterRole(BUILTIN_ROLE_NAMES.basicUser, [rule("authorization.k8s.io", ["selfsubjectaccessreviews"], ["create"])]),
  ].map((role) => structuredClone(role));
}

/** The built-in ClusterRoleBindings: system:masters are cluster admins; every signed-in user is a basic user. */
export function builtinClusterRoleBindings(): ClusterRoleBinding[] {
  return [
    groupBinding(BUILTIN_ROLE_NAMES.clusterAdmin, BUILTIN_ROLE_NAMES.clusterAdmin, MASTERS_GROUP),
    groupBinding(BUILTIN_ROLE_NAMES.basicUser, BUILTIN_ROLE_NAMES.basicUser, AUTHENTICATED_GROUP),
  ];
}
