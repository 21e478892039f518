/**
 * What the console shows, worked out from API objects without a browser: rows, progress, the manifests the forms
 * send, validation messages by field, and which buttons a user's permissions allow. Unit-tested in Node.
 */

/** The metadata the console reads. */
export interface Meta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  creationTimestamp?: string;
  labels?: Record<string, string>;
}

/** A condition, as every kind has them. */
export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

/** Any API object (the console reads only these fields of them). */
export interface ApiObject {
  apiVersion?: string;
  kind?: string;
  metadata: Meta;
}

/** A Cluster, as far as the console reads it. */
export interface ClusterObject extends ApiObject {
  spec?: { clusterDef?: string; topology?: string; componentSpecs?: { name: string; replicas?: number; serviceVersion?: string }[] };
  status?: { phase?: string; message?: string; conditions?: Condition[]; endpoints?: { access: string; host?: string; port?: number; component?: string }[] };
}

/** An Instance. */
export interface InstanceObject extends ApiObject {
  spec?: { clusterName?: string; componentName?: string; engine?: string; version?: string; port?: number; role?: string; nodeName?: string };
  status?: { phase?: string; role?: string; ready?: boolean; host?: string; message?: string };
}

/** An OpsRequest. */
export interface OpsObject extends ApiObject {
  spec?: { clusterName?: string; type?: string };
  status?: { phase?: string; progress?: string; message?: string; conditions?: Condition[] };
}

/** A core Event. */
export interface EventObject extends ApiObject {
  involvedObject?: { kind?: string; name?: string; namespace?: string };
  reason?: string;
  message?: string;
  type?: string;
  count?: number;
  lastTimestamp?: string;
}

/** One record of the audit log (audit.k8s.io/v1 Event). */
export interface AuditRecord {
  auditID?: string;
  stage?: string;
  verb?: string;
  user?: { username?: string };
  objectRef?: { resource?: string; namespace?: string; name?: string; apiGroup?: string; subresource?: string };
  responseStatus?: { code?: number; reason?: string };
  requestReceivedTimestamp?: string;
  stageTimestamp?: string;
  annotations?: Record<string, string>;
}

/** A watch event, one JSON line of a watch stream. */
export interface WatchEvent<T extends ApiObject = ApiObject> {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: T;
}

/** The namespace/name key of an object. */
export function keyOf(object: ApiObject): string {
  return `${object.metadata.namespace ?? ""}/${object.metadata.name}`;
}

/** Split a watch stream's text into complete events and the unfinished rest (kept for the next chunk). */
export function parseWatchChunk(buffered: string): { events: WatchEvent[]; rest: string } {
  const lines = buffered.split("\n");
  const rest = lines.pop() ?? "";
  const events: WatchEvent[] = [];
  for (const line of lines) {
    if (line.trim() === "") continue;
    events.push(JSON.parse(line) as WatchEvent);
  }
  return { events, rest };
}

/** Apply a watch event to the objects by key; returns whether anything changed. */
export function applyWatchEvent<T extends ApiObject>(objects: Map<string, T>, event: WatchEvent<T>): boolean {
  if (event.type === "ADDED" || event.type === "MODIFIED") {
    objects.set(keyOf(event.object), event.object);
    return true;
  }
  if (event.type === "DELETED") return objects.delete(keyOf(event.object));
  return false;
}

/** A row of the clusters list. */
export interface ClusterRow {
  key: string;
  namespace: string;
  name: string;
  engine: string;
  topology: string;
  replicas: string;
  phase: string;
  created: string;
}

/** The clusters list's row of a cluster. */
export function clusterRow(cluster: ClusterObject): ClusterRow {
  const components = cluster.spec?.componentSpecs ?? [];
  return {
    key: keyOf(cluster),
    namespace: cluster.metadata.namespace ?? "",
    name: cluster.metadata.name,
    engine: cluster.spec?.clusterDef ?? "",
    topology: cluster.spec?.topology ?? "",
    replicas: components.map((c) => `${c.name}×${c.replicas ?? 1}`).join(", "),
    phase: cluster.status?.phase ?? "Pending",
    created: cluster.metadata.creationTimestamp ?? "",
  };
}

/** Rows sorted by namespace, then name. */
export function sortedRows<T extends { namespace: string; name: string }>(rows: Iterable<T>): T[] {
  return [...rows].sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
}

/** A row of a cluster's instances. */
export interface InstanceRow {
  name: string;
  component: string;
  role: string;
  phase: string;
  ready: string;
  node: string;
  address: string;
}

/** The instances of a cluster, as rows (sorted by name). */
export function instanceRows(instances: Iterable<InstanceObject>, cluster: string): InstanceRow[] {
  return [...instances]
    .filter((i) => i.spec?.clusterName === cluster)
    .map(instanceRow)
    .sort((a, b) => a.name.localeCompare(b.name));
}

function instanceRow(instance: InstanceObject): InstanceRow {
  const spec = instance.spec ?? {};
  const status = instance.status ?? {};
  return {
    name: instance.metadata.name,
    component: spec.componentName ?? "",
    role: status.role ?? spec.role ?? "",
    phase: status.phase ?? "Pending",
    ready: status.ready === true ? "yes" : "no",
    node: spec.nodeName ?? "",
    address: spec.port === undefined ? "" : `${status.host ?? ""}:${spec.port}`,
  };
}

/** An OpsRequest's progress: its phase, "done/total" and the fraction done (0–1). */
export interface OpsProgress {
  phase: string;
  progress: string;
  fraction: number;
  finished: boolean;
}

const FINISHED_OPS = new Set(["Succeed", "Failed", "Cancelled", "Aborted"]);

/** The progress of an OpsRequest, from its status. */
export function opsProgress(ops: OpsObject): OpsProgress {
  const phase = ops.status?.phase ?? "Pending";
  const progress = ops.status?.progress ?? "-/-";
  const match = /^(\d+)\/(\d+)$/.exec(progress);
  const done = Number(match?.[1] ?? 0);
  const total = Number(match?.[2] ?? 0);
  const finished = FINISHED_OPS.has(phase);
  const fraction = phase === "Succeed" ? 1 : total > 0 ? Math.min(1, done / total) : 0;
  return { phase, progress, fraction, finished };
}

/** The fields of a rejected request's Status (`details.causes`), by field path; causes without a field under "". */
export function fieldErrors(status: unknown): Map<string, string[]> {
  const errors = new Map<string, string[]>();
  const body = status as { message?: unknown; details?: { causes?: { field?: unknown; message?: unknown }[] } } | null;
  for (const cause of body?.details?.causes ?? []) {
    const field = typeof cause.field === "string" ? cause.field : "";
    const message = typeof cause.message === "string" ? cause.message : "invalid";
    errors.set(field, [...(errors.get(field) ?? []), message]);
  }
  if (errors.size === 0 && typeof body?.message === "string") errors.set("", [body.message]);
  return errors;
}

/** The create form's values. */
export interface ClusterForm {
  namespace: string;
  name: string;
  engine: "postgresql" | "redis";
  version: string;
  replicas: number;
}

/** The form's field that a Status cause's field path belongs to ("" when none does). */
export function formFieldOf(path: string): keyof ClusterForm | "" {
  if (path === "metadata.name") return "name";
  if (path === "metadata.namespace") return "namespace";
  if (/^spec\.componentSpecs\[\d+\]\.serviceVersion$/.test(path)) return "version";
  if (/^spec\.componentSpecs\[\d+\]\.replicas$/.test(path)) return "replicas";
  if (path === "spec.clusterDef" || path === "spec.topology") return "engine";
  return "";
}

/** The Cluster a form describes, in KubeBlocks' shape (the API validates it; the form does not second-guess it). */
export function clusterManifest(form: ClusterForm): ClusterObject & { spec: Record<string, unknown> } {
  const version = form.version === "" ? {} : { serviceVersion: form.version };
  const main = { name: form.engine, replicas: form.replicas, ...version };
  const components =
    form.engine === "redis" && form.replicas > 1 ? [main, { name: "redis-sentinel", replicas: 3, ...version }] : [main];
  const topology = form.engine === "redis" && form.replicas === 1 ? "standalone" : "replication";
  return {
    apiVersion: "apps.kubeblocks.io/v1",
    kind: "Cluster",
    metadata: { name: form.name, namespace: form.namespace },
    spec: { terminationPolicy: "Delete", clusterDef: form.engine, topology, componentSpecs: components },
  };
}

/** The day-2 operations the console starts. */
export type OpsType = "Restart" | "Stop" | "Start" | "Switchover";

/** The OpsRequest for an action on a cluster (`suffix` makes its name unique; a switchover moves `primary`'s role). */
export function opsManifest(cluster: ClusterObject, type: OpsType, suffix: string, primary = ""): OpsObject & { spec: Record<string, unknown> } {
  const clusterName = cluster.metadata.name;
  const components = (cluster.spec?.componentSpecs ?? []).map((c) => c.name);
  const spec: Record<string, unknown> = { clusterName, type };
  if (type === "Restart") spec["restart"] = components.map((componentName) => ({ componentName }));
  if (type === "Switchover") spec["switchover"] = components.slice(0, 1).map((componentName) => ({ componentName, instanceName: primary }));
  return {
    apiVersion: "operations.kubeblocks.io/v1alpha1",
    kind: "OpsRequest",
    metadata: { name: `${clusterName}-${type.toLowerCase()}-${suffix}`.slice(0, 63), namespace: cluster.metadata.namespace ?? "default" },
    spec,
  };
}

/** The audit records of one object (newest first), or of a cluster and the OpsRequests named after it. */
export function auditOf(records: readonly AuditRecord[], target: { namespace: string; resource: string; name: string }): AuditRecord[] {
  return records
    .filter((r) => {
      const ref = r.objectRef;
      if (ref?.namespace !== target.namespace || ref.resource !== target.resource) return false;
      return ref.name === target.name;
    })
    .sort((a, b) => (b.stageTimestamp ?? "").localeCompare(a.stageTimestamp ?? ""));
}

/** A permission the console asks about: a verb on a resource (in a namespace, or everywhere). */
export interface Ask {
  verb: string;
  group: string;
  resource: string;
  namespace?: string;
}

/** What the console lets a user do, from their access reviews (anything not allowed is hidden). */
export interface Abilities {
  createClusters: boolean;
  createOps: boolean;
  readSecrets: boolean;
  readAudit: boolean;
}

/** The questions behind each ability, in order. */
export const ABILITY_ASKS: Record<keyof Abilities, Ask> = {
  createClusters: { verb: "create", group: "apps.kubeblocks.io", resource: "clusters" },
  createOps: { verb: "create", group: "operations.kubeblocks.io", resource: "opsrequests" },
  readSecrets: { verb: "get", group: "", resource: "secrets" },
  readAudit: { verb: "list", group: "audit.holdfast.io", resource: "auditevents" },
};

/** A SelfSubjectAccessReview for one question. */
export function accessReview(ask: Ask): unknown {
  return {
    apiVersion: "authorization.k8s.io/v1",
    kind: "SelfSubjectAccessReview",
    spec: { resourceAttributes: { verb: ask.verb, group: ask.group, resource: ask.resource, ...(ask.namespace === undefined ? {} : { namespace: ask.namespace }) } },
  };
}

/** Whether a review's answer allows. */
export function allowed(review: unknown): boolean {
  return (review as { status?: { allowed?: unknown } } | null)?.status?.allowed === true;
}

/** A timestamp as a short age ("42s", "5m", "3h", "2d"). */
export function age(timestamp: string | undefined, now: number): string {
  if (timestamp === undefined || timestamp === "") return "";
  const seconds = Math.max(0, Math.floor((now - Date.parse(timestamp)) / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}
