/**
 * The columns of each kind's table, one definition for `holdfast get` and for the API server's Table answers
 * (`kubectl get`): KubeBlocks' printer columns for its kinds, kubectl's for the core ones. Wide-only columns have
 * priority 1, as Kubernetes marks them.
 */
import { fieldList, fieldRecord, fieldText } from "./field-paths.ts";
import type { Resource } from "./meta.ts";

/** One column: its header, whether only the wide view shows it, and its cell. */
export interface PrinterColumn {
  name: string;
  /** 0: always shown; 1: `-o wide` only. */
  priority: 0 | 1;
  cell(object: Resource, now: Date): string;
}

/** What some tables show besides their objects: the node holding the controllers' lease (undefined: not known). */
export interface PrinterContext {
  leader?: string | undefined;
}

/** kubectl's HumanDuration: `45s`, `5m30s`, `42m`, `3h20m`, `20h`, `2d4h`, `90d`, `2y30d`. */
export function humanDuration(milliseconds: number): string {
  const seconds = Math.trunc(milliseconds / 1000);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return withRemainder(minutes, "m", seconds % 60, "s");
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return withRemainder(hours, "h", minutes % 60, "m");
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 8) return withRemainder(days, "d", hours % 24, "h");
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.floor(days / 365);
  if (hours < 24 * 365 * 8) return withRemainder(years, "y", days % 365, "d");
  return `${years}y`;
}

function withRemainder(major: number, majorUnit: string, minor: number, minorUnit: string): string {
  return minor === 0 ? `${major}${majorUnit}` : `${major}${majorUnit}${minor}${minorUnit}`;
}

/** Age of a timestamp relative to `now`; `<unknown>` when absent. */
export function formatAge(timestamp: string | undefined, now: Date): string {
  if (timestamp === undefined || timestamp === "") return "<unknown>";
  const then = Date.parse(timestamp);
  if (Number.isNaN(then)) return "<unknown>";
  return humanDuration(now.getTime() - then);
}

type Columns = [header: string, cell: (object: Resource, now: Date) => string][];

const age: Columns[number] = ["AGE", (o, now) => formatAge(o.metadata.creationTimestamp, now)];

const CLUSTER: Columns = [
  ["NAME", (o) => o.metadata.name],
  ["CLUSTER-DEFINITION", (o) => fieldText(o, "spec.clusterDef")],
  ["TERMINATION-POLICY", (o) => fieldText(o, "spec.terminationPolicy")],
  ["STATUS", (o) => fieldText(o, "status.phase")],
  age,
];

const OPS_REQUEST: Columns = [
  ["NAME", (o) => o.metadata.name],
  ["TYPE", (o) => fieldText(o, "spec.type")],
  ["CLUSTER", (o) => fieldText(o, "spec.clusterName")],
  ["STATUS", (o) => fieldText(o, "status.phase")],
  ["PROGRESS", (o) => fieldText(o, "status.progress", "-/-")],
  age,
];

const INSTANCE: Columns = [
  ["NAME", (o) => o.metadata.name],
  ["ROLE", (o) => fieldText(o, "status.role") || fieldText(o, "spec.role")],
  ["STATUS", (o) => fieldText(o, "status.phase", "Pending")],
  ["READY", (o) => fieldText(o, "status.ready", "false")],
  ["RESTARTS", (o) => fieldText(o, "status.restartCount", "0")],
  ["PORT", (o) => fieldText(o, "spec.port")],
  age,
];

const NAMESPACE: Columns = [["NAME", (o) => o.metadata.name], ["STATUS", (o) => fieldText(o, "status.phase", "Active")], age];

const SECRET: Columns = [
  ["NAME", (o) => o.metadata.name],
  ["TYPE", (o) => fieldText(o, "type", "Opaque")],
  ["DATA", (o) => String(Object.keys(fieldRecord(o, "data")).length)],
  age,
];

const EVENT: Columns = [
  ["LAST SEEN", (o, now) => formatAge(fieldText(o, "lastTimestamp") || o.metadata.creationTimestamp, now)],
  ["TYPE", (o) => fieldText(o, "type")],
  ["REASON", (o) => fieldText(o, "reason")],
  ["OBJECT", (o) => `${fieldText(o, "involvedObject.kind").toLowerCase()}/${fieldText(o, "involvedObject.name")}`],
  ["MESSAGE", (o) => fieldText(o, "message")],
];

// Data protection: KubeBlocks' printer columns.
const BACKUP: Columns = [
  ["NAME", (o) => o.metadata.name],
  ["POLICY", (o) => fieldText(o, "spec.backupPolicyName")],
  ["METHOD", (o) => fieldText(o, "spec.backupMethod")],
  ["REPO", (o) => fieldText(o, "status.backupRepoName")],
  ["STATUS", (o) => fieldText(o, "status.phase")],
  ["TOTAL-SIZE", (o) => fieldText(o, "status.totalSize")],
  ["DURATION", (o) => fieldText(o, "status.duration")],
  ["CREATION-TIME", (o) => o.metadata.creationTimestamp ?? ""],
  ["COMPLETION-TIME", (o) => fieldText(o, "status.completionTimestamp")],
];

const RESTORE: Columns = [
  ["NAME", (o) => o.metadata.name],
  ["BACKUP", (o) => fieldText(o, "spec.backup.name")],
  ["RESTORE-TIME", (o) => fieldText(o, "spec.restoreTime")],
  ["STATUS", (o) => fieldText(o, "status.phase")],
  ["DURATION", (o) => fieldText(o, "status.duration")],
  ["CREATION-TIME", (o) => o.metadata.creationTimestamp ?? ""],
  ["COMPLETION-TIME", (o) => fieldText(o, "status.completionTimestamp")],
];

const BACKUP_POLICY: Columns = [["NAME", (o) => o.metadata.name], ["BACKUP-REPO", (o) => fieldText(o, "spec.backupRepoName")], ["STATUS", (o) => fieldText(o, "status.phase")], age];

const BACKUP_REPO: Columns = [
  ["NAME", (o) => o.metadata.name],
  ["STORAGE-PROVIDER", (o) => fieldText(o, "spec.storageProviderRef")],
  ["ACCESS-METHOD", (o) => fieldText(o, "spec.accessMethod")],
  ["DEFAULT", (o) => String(o.metadata.annotations?.["dataprotection.kubeblocks.io/is-default-repo"] === "true")],
  age,
];

const DATABASE: Columns = [
  ["NAME", (o) => o.metadata.name],
  ["CLUSTER", (o) => fieldText(o, "spec.clusterName")],
  ["COMPONENT", (o) => fieldText(o, "spec.componentName")],
  ["DATABASE", (o) => fieldText(o, "spec.name")],
  ["OWNER", (o) => fieldText(o, "spec.owner", "<administrator>")],
  ["ENSURE", (o) => fieldText(o, "spec.ensure", "present")],
  ["STATUS", (o) => fieldText(o, "status.phase", "Pending")],
  age,
];

const DATABASE_USER: Columns = [
  ["NAME", (o) => o.metadata.name],
  ["CLUSTER", (o) => fieldText(o, "spec.clusterName")],
  ["COMPONENT", (o) => fieldText(o, "spec.componentName")],
  ["USERNAME", (o) => fieldText(o, "spec.username")],
  ["STATUS", (o) => fieldText(o, "status.phase", "Pending")],
  age,
];

/** An OpsDefinition: the engines it applies to and the engine actions it runs (ADR 0054). */
const OPS_DEFINITION: Columns = [
  ["NAME", (o) => o.metadata.name],
  ["COMPONENTS", (o) => fieldList(o, "spec.componentInfos").map((c) => fieldText(c, "componentDefinitionName")).join(",")],
  ["ACTIONS", (o) => fieldList(o, "spec.actions").map((a) => fieldList(a, "exec.command").map(String).join(" ")).join(",")],
  age,
];

const GENERIC: Columns = [["NAME", (o) => o.metadata.name], age];

const WIDE: Record<string, Columns> = {
  Cluster: [["TOPOLOGY", (o) => fieldText(o, "spec.topology")], ["COMPONENTS", (o) => fieldList(o, "spec.componentSpecs").map((c) => fieldText(c, "name")).join(",")]],
  Instance: [["PID", (o) => fieldText(o, "status.pid", "<none>")], ["VERSION", (o) => fieldText(o, "spec.version")], ["CLUSTER", (o) => fieldText(o, "spec.clusterName")], ["NODE", (o) => fieldText(o, "spec.nodeName", "<none>")]],
  Node: [["LABELS", (o) => Object.entries(o.metadata.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(",") || "<none>"]],
  OpsRequest: [["MESSAGE", (o) => fieldText(o, "status.message")]],
  DatabaseUser: [["SECRET", (o) => fieldText(o, "status.secretName")], ["MESSAGE", (o) => fieldText(o, "status.message")]],
  Database: [["RECLAIM", (o) => fieldText(o, "spec.databaseReclaimPolicy", "retain")], ["MESSAGE", (o) => fieldText(o, "status.message")]],
};

const BY_KIND: Record<string, Columns> = {
  Cluster: CLUSTER,
  OpsRequest: OPS_REQUEST,
  Instance: INSTANCE,
  Namespace: NAMESPACE,
  Secret: SECRET,
  Event: EVENT,
  Backup: BACKUP,
  BackupPolicy: BACKUP_POLICY,
  Restore: RESTORE,
  BackupRepo: BACKUP_REPO,
  OpsDefinition: OPS_DEFINITION,
  DatabaseUser: DATABASE_USER,
  Database: DATABASE,
};

/** `postgresql 16.4,15.8; redis 7.0.15`, or `-`. */
export function nodeEnginesText(node: unknown): string {
  const engines = fieldList(node, "status.engines").map((e) => `${fieldText(e, "name")} ${fieldList(e, "versions").map(String).join(",")}`);
  return engines.length === 0 ? "-" : engines.join("; ");
}

/** The status of a Node condition (`Ready`), `Unknown` when absent. */
export function nodeConditionStatus(node: unknown, type: string): string {
  const condition = fieldList(node, "status.conditions").find((c) => fieldText(c, "type") === type);
  return fieldText(condition, "status", "Unknown");
}

/** A Node address of a type (`Advertise`), or "". */
export function nodeAddressOfType(node: unknown, type: string): string {
  return fieldText(fieldList(node, "status.addresses").find((a) => fieldText(a, "type") === type), "address");
}

/** The Node columns: NAME, READY, LEADER, VERSION, ADDRESS, ENGINES, AGE. */
function nodeColumns(context: PrinterContext): Columns {
  const leader = (o: Resource): string => (context.leader === undefined ? "-" : o.metadata.name === context.leader ? "yes" : "no");
  return [
    ["NAME", (o) => o.metadata.name],
    ["READY", (o) => nodeConditionStatus(o, "Ready")],
    ["LEADER", leader],
    ["VERSION", (o) => fieldText(o, "status.nodeInfo.holdfastVersion", "-")],
    ["ADDRESS", (o) => nodeAddressOfType(o, "Advertise") || "-"],
    ["ENGINES", (o) => nodeEnginesText(o)],
    ["AGE", (o, now) => formatAge(o.metadata.creationTimestamp, now)],
  ];
}

/** The columns of a kind's table, wide-only ones (priority 1) included. */
export function printerColumns(kind: string, context: PrinterContext = {}): PrinterColumn[] {
  const base = kind === "Node" ? nodeColumns(context) : (BY_KIND[kind] ?? GENERIC);
  const wide = WIDE[kind] ?? [];
  return [...base.map(([name, cell]) => ({ name, priority: 0 as const, cell })), ...wide.map(([name, cell]) => ({ name, priority: 1 as const, cell }))];
}
