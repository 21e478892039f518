/** The columns `holdfast get` shows for each kind, like kubectl's printers. */
import type { KindInfo, Resource } from "../api/index.ts";
import { list, record, text } from "./fields.ts";
import { nodeColumns, type NodeTableContext } from "./node-views.ts";
import { formatAge } from "./output.ts";

/** Headers and how to fill one row. */
export interface TableSpec {
  headers: string[];
  row(object: Resource, now: Date): string[];
}

type Columns = [header: string, cell: (object: Resource, now: Date) => string][];

const age: Columns[number] = ["AGE", (o, now) => formatAge(o.metadata.creationTimestamp, now)];

const CLUSTER: Columns = [
  ["NAME", (o) => o.metadata.name],
  ["CLUSTER-DEFINITION", (o) => text(o, "spec.clusterDef")],
  ["TERMINATION-POLICY", (o) => text(o, "spec.terminationPolicy")],
  ["STATUS", (o) => text(o, "status.phase")],
  age,
];

const OPS_REQUEST: Columns = [
  ["NAME", (o) => o.metadata.name],
  ["TYPE", (o) => text(o, "spec.type")],
  ["CLUSTER", (o) => text(o, "spec.clusterName")],
  ["STATUS", (o) => text(o, "status.phase")],
  ["PROGRESS", (o) => text(o, "status.progress", "-/-")],
  age,
];

const INSTANCE: Columns = [
  ["NAME", (o) => o.metadata.name],
  ["ROLE", (o) => text(o, "status.role") || text(o, "spec.role")],
  ["STATUS", (o) => text(o, "status.phase", "Pending")],
  ["READY", (o) => text(o, "status.ready", "false")],
  ["RESTARTS", (o) => text(o, "status.restartCount", "0")],
  ["PORT", (o) => text(o, "spec.port")],
  age,
];

const NAMESPACE: Columns = [["NAME", (o) => o.metadata.name], ["STATUS", (o) => text(o, "status.phase", "Active")], age];

const SECRET: Columns = [
  ["NAME", (o) => o.metadata.name],
  ["TYPE", (o) => text(o, "type", "Opaque")],
  ["DATA", (o) => String(Object.keys(record(o, "data")).length)],
  age,
];

const EVENT: Columns = [
  ["LAST SEEN", (o, now) => formatAge(text(o, "lastTimestamp") || o.metadata.creationTimestamp, now)],
  ["TYPE", (o) => text(o, "type")],
  ["REASON", (o) => text(o, "reason")],
  ["OBJECT", (o) => `${text(o, "involvedObject.kind").toLowerCase()}/${text(o, "involvedObject.name")}`],
  ["MESSAGE", (o) => text(o, "message")],
];

// Data protection: KubeBlocks' printer columns.
const BACKUP: Columns = [
  ["NAME", (o) => o.metadata.name],
  ["POLICY", (o) => text(o, "spec.backupPolicyName")],
  ["METHOD", (o) => text(o, "spec.backupMethod")],
  ["REPO", (o) => text(o, "status.backupRepoName")],
  ["STATUS", (o) => text(o, "status.phase")],
  ["TOTAL-SIZE", (o) => text(o, "status.totalSize")],
  ["DURATION", (o) => text(o, "status.duration")],
  ["CREATION-TIME", (o) => o.metadata.creationTimestamp ?? ""],
  ["COMPLETION-TIME", (o) => text(o, "status.completionTimestamp")],
];

const BACKUP_POLICY: Columns = [["NAME", (o) => o.metadata.name], ["BACKUP-REPO", (o) => text(o, "spec.backupRepoName")], ["STATUS", (o) => text(o, "status.phase")], age];

const BACKUP_REPO: Columns = [
  ["NAME", (o) => o.metadata.name],
  ["STORAGE-PROVIDER", (o) => text(o, "spec.storageProviderRef")],
  ["ACCESS-METHOD", (o) => text(o, "spec.accessMethod")],
  ["DEFAULT", (o) => String(o.metadata.annotations?.["dataprotection.kubeblocks.io/is-default-repo"] === "true")],
  age,
];

const GENERIC: Columns = [["NAME", (o) => o.metadata.name], age];

const WIDE: Record<string, Columns> = {
  Cluster: [["TOPOLOGY", (o) => text(o, "spec.topology")], ["COMPONENTS", (o) => list(o, "spec.componentSpecs").map((c) => text(c, "name")).join(",")]],
  Instance: [["PID", (o) => text(o, "status.pid", "<none>")], ["VERSION", (o) => text(o, "spec.version")], ["CLUSTER", (o) => text(o, "spec.clusterName")], ["NODE", (o) => text(o, "spec.nodeName", "<none>")]],
  Node: [["LABELS", (o) => Object.entries(o.metadata.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(",") || "<none>"]],
  OpsRequest: [["MESSAGE", (o) => text(o, "status.message")]],
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
  BackupRepo: BACKUP_REPO,
};

/** What some tables show besides their objects (Node: the controllers' leader). */
export type TableContext = NodeTableContext;

/** The table for a kind; `wide` adds columns, `allNamespaces` leads with NAMESPACE. */
export function tableFor(info: KindInfo, wide: boolean, allNamespaces: boolean, context: TableContext = {}): TableSpec {
  const base = info.kind === "Node" ? nodeColumns(context) : (BY_KIND[info.kind] ?? GENERIC);
  let columns = [...base, ...(wide ? (WIDE[info.kind] ?? []) : [])];
  if (allNamespaces && info.namespaced) columns = [["NAMESPACE", (o) => o.metadata.namespace ?? ""], ...columns];
  return {
    headers: columns.map(([header]) => header),
    row: (object, now) => columns.map(([, cell]) => cell(object, now)),
  };
}

/** Events sort by when they last happened, as `kubectl get events` does; everything else by namespace and name. */
export function sortForTable(info: KindInfo, objects: readonly Resource[]): Resource[] {
  const copy = [...objects];
  if (info.kind === "Event") {
    return copy.sort((a, b) => text(a, "lastTimestamp").localeCompare(text(b, "lastTimestamp")));
  }
  return copy.sort((a, b) =>
    `${a.metadata.namespace ?? ""}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace ?? ""}/${b.metadata.name}`),
  );
}
