/** The kind-specific parts of `holdfast describe`, as pure functions of the object. */
import type { Resource } from "../api/index.ts";
import { restoreProgressLine } from "./backup-views.ts";
import { list, pick, record, text } from "./fields.ts";
import { formatAge, formatTable, toYaml } from "./output.ts";

/** Aligned `Key:  value` lines, indented. */
export function keyValues(pairs: readonly (readonly [string, string])[], indent = ""): string {
  const width = Math.max(0, ...pairs.map(([key]) => key.length + 1));
  // Continuation lines of a multi-line value stay in the value column.
  const continuation = `\n${" ".repeat(indent.length + width + 2)}`;
  return pairs
    .map(([key, value]) => `${indent}${`${key}:`.padEnd(width)}  ${value.split("\n").join(continuation)}`.trimEnd() + "\n")
    .join("");
}

/** A titled table, or `Title:  <none>` when there are no rows. */
export function tableSection(title: string, headers: readonly string[], rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return `${title}:  <none>\n`;
  const body = formatTable(headers, rows)
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => `  ${line}\n`)
    .join("");
  return `${title}:\n${body}`;
}

/** `a=b` pairs one per line, aligned under the first, or `<none>`. */
function mapLines(map: Record<string, string> | undefined): string {
  const entries = Object.entries(map ?? {});
  if (entries.length === 0) return "<none>";
  return entries.map(([key, value]) => `${key}=${value}`).join("\n");
}

/** Name, namespace, labels and the other metadata every object has. */
export function metadataSection(object: Resource, now: Date): string {
  const created = object.metadata.creationTimestamp;
  const pairs: [string, string][] = [
    ["Name", object.metadata.name],
    ...(object.metadata.namespace === undefined ? [] : [["Namespace", object.metadata.namespace] as [string, string]]),
    ["Labels", mapLines(object.metadata.labels)],
    ["Annotations", mapLines(object.metadata.annotations)],
    ["API Version", object.apiVersion],
    ["Kind", object.kind],
    ["Created", created === undefined ? "<unknown>" : `${created} (${formatAge(created, now)} ago)`],
    ["UID", object.metadata.uid ?? ""],
    ["Resource Version", object.metadata.resourceVersion ?? ""],
    ...(object.metadata.generation === undefined ? [] : [["Generation", String(object.metadata.generation)] as [string, string]]),
    ...(object.metadata.deletionTimestamp === undefined ? [] : [["Deleting Since", object.metadata.deletionTimestamp] as [string, string]]),
    ...((object.metadata.finalizers ?? []).length === 0 ? [] : [["Finalizers", (object.metadata.finalizers ?? []).join(", ")] as [string, string]]),
  ];
  return keyValues(pairs);
}

/** The conditions table. */
export function conditionsSection(object: Resource, now: Date): string {
  const rows = list(object, "status.conditions").map((c) => [
    text(c, "type"),
    text(c, "status"),
    text(c, "reason"),
    text(c, "message"),
    text(c, "lastTransitionTime") === "" ? "" : `${formatAge(text(c, "lastTransitionTime"), now)} ago`,
  ]);
  return tableSection("Conditions", ["TYPE", "STATUS", "REASON", "MESSAGE", "LAST-TRANSITION"], rows);
}

function clusterComponents(object: Resource): string {
  const rows = list(object, "spec.componentSpecs").map((c) => [
    text(c, "name"),
    text(c, "serviceVersion", "<newest>"),
    text(c, "replicas", "1"),
    text(c, "resources.limits.cpu") || text(c, "resources.requests.cpu", "-"),
    text(c, "resources.limits.memory") || text(c, "resources.requests.memory", "-"),
    text(c, "stop", "false"),
  ]);
  return tableSection("Components", ["NAME", "SERVICE-VERSION", "REPLICAS", "CPU", "MEMORY", "STOPPED"], rows);
}

function clusterStatus(object: Resource): string {
  const components = Object.entries(record(object, "status.components"));
  const componentRows = components.map(([name, status]) => [
    name,
    text(status, "phase"),
    `${text(status, "readyReplicas", "0")}/${text(status, "replicas", "0")}`,
    text(status, "message"),
  ]);
  const instanceRows = components.flatMap(([component, status]) =>
    list(status, "instances").map((i) => [
      text(i, "name"),
      component,
      text(i, "role"),
      text(i, "phase"),
      text(i, "ready", "false"),
      text(i, "restartCount", "0"),
      text(i, "port"),
    ]),
  );
  return (
    tableSection("Component Status", ["NAME", "PHASE", "READY", "MESSAGE"], componentRows) +
    tableSection("Instances", ["NAME", "COMPONENT", "ROLE", "STATUS", "READY", "RESTARTS", "PORT"], instanceRows)
  );
}

/** Cluster: definition, topology, components, and the instances status reports. */
export function clusterSection(object: Resource): string {
  const spec = keyValues(
    [
      ["Cluster Definition", text(object, "spec.clusterDef", "<none>")],
      ["Topology", text(object, "spec.topology", "<default>")],
      ["Termination Policy", text(object, "spec.terminationPolicy")],
    ],
    "  ",
  );
  const status = keyValues([["Phase", text(object, "status.phase", "<unknown>")], ["Message", text(object, "status.message")]], "  ");
  return `Spec:\n${spec}${clusterComponents(object)}Status:\n${status}${clusterStatus(object)}`;
}

/** Instance: what should run, and what runs. */
export function instanceSection(object: Resource, now: Date): string {
  const spec = keyValues(
    [
      ["Engine", `${text(object, "spec.engine")} ${text(object, "spec.version")}`],
      ["Cluster", text(object, "spec.clusterName")],
      ["Component", text(object, "spec.componentName")],
      ["Ordinal", text(object, "spec.ordinal")],
      ["Port", text(object, "spec.port")],
      ["Running", text(object, "spec.running")],
      ["Desired Role", text(object, "spec.role", "<none>")],
    ],
    "  ",
  );
  const started = text(object, "status.startedAt");
  const status = keyValues(
    [
      ["Phase", text(object, "status.phase", "Pending")],
      ["Ready", text(object, "status.ready", "false")],
      ["Role", text(object, "status.role", "<unknown>")],
      ["PID", text(object, "status.pid", "<none>")],
      ["Restarts", text(object, "status.restartCount", "0")],
      ["Started", started === "" ? "<never>" : `${started} (${formatAge(started, now)} ago)`],
      ["Data Directory", text(object, "status.dataDirectory")],
      ["Log File", text(object, "status.logFile")],
      ["Message", text(object, "status.message")],
      ...restoreRows(object),
    ],
    "  ",
  );
  return `Spec:\n${spec}Status:\n${status}`;
}

/** While the data is restored from a backup: which, and how far it has come. */
function restoreRows(object: Resource): [string, string][] {
  const progress = restoreProgressLine(object);
  return progress === "" ? [] : [["Restoring From", text(object, "status.restoreProgress.backup")], ["Restore Progress", progress]];
}

/** Secret: type and the size of each value, never the values. */
export function secretSection(object: Resource): string {
  const data = Object.entries(record(object, "data")).map(([key, value]) => {
    const bytes = typeof value === "string" ? Buffer.from(value, "base64").length : 0;
    return [key, `${bytes} bytes`] as const;
  });
  return keyValues([["Type", text(object, "type", "Opaque")]]) + (data.length === 0 ? "Data:  <none>\n" : `Data:\n${keyValues(data, "  ")}`);
}

/** OpsRequest: what it does and how far it got. */
export function opsRequestSection(object: Resource): string {
  return keyValues([
    ["Cluster", text(object, "spec.clusterName")],
    ["Type", text(object, "spec.type")],
    ["Phase", text(object, "status.phase", "Pending")],
    ["Progress", text(object, "status.progress", "-/-")],
    ["Started", text(object, "status.startTimestamp", "<not yet>")],
    ["Completed", text(object, "status.completionTimestamp", "<not yet>")],
    ["Message", text(object, "status.message")],
  ]);
}

/** Any other kind: its spec and status as YAML. */
export function genericSection(object: Resource): string {
  const parts: string[] = [];
  for (const key of ["spec", "status"]) {
    const value = pick(object, key);
    if (value === undefined) continue;
    const body = toYaml(value).trimEnd().split("\n").map((line) => `  ${line}`).join("\n");
    parts.push(`${key[0]?.toUpperCase() ?? ""}${key.slice(1)}:\n${body}\n`);
  }
  return parts.join("");
}
