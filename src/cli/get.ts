/** `holdfast get`: list or show objects as tables, JSON or YAML, optionally watching for changes. */
import type { KindInfo, Resource } from "../api/index.ts";
import { NAMESPACE_FLAGS, UsageError, boolFlag, namespaceOf, parseFlags, stringFlag } from "./args.ts";
import type { FlagValues } from "./args.ts";
import { ApiError } from "./client.ts";
import type { ApiClient } from "./client.ts";
import { clientOf } from "./context.ts";
import { text } from "./fields.ts";
import type { CliContext } from "./context.ts";
import { parseTarget } from "./kinds.ts";
import { qualifiedName } from "./manifest.ts";
import { columnWidths, describeError, formatRow, formatTable, toJson, toYaml } from "./output.ts";
import { controllerLeader } from "./node-views.ts";
import { sortForTable, tableFor, type TableContext, type TableSpec } from "./tables.ts";
import { parseOutput, sortBy, withLabels, type Output, type OutputFormat } from "./get-formats.ts";
import { parseTemplate, type JsonPathTemplate } from "./jsonpath.ts";

export const GET_HELP = `Display one or many objects.

Usage:
  holdfast get KIND [NAME...] [-n NAMESPACE | -A] [-o FORMAT] [-l SELECTOR] [--sort-by PATH] [--show-labels] [-w]

KIND is a plural, singular or short name, or the Kind: clusters, cluster, cl, Cluster,
opsrequests (ops), instances (inst, pod), nodes (no), namespaces (ns), secrets, events (ev).
Run "holdfast api-resources" for the full list.

Examples:
  holdfast get clusters -n demo
  holdfast get cluster pg-cluster -n demo -o yaml
  holdfast get inst -l app.kubernetes.io/instance=pg-cluster -o wide
  holdfast get ops -A
  holdfast get nodes
  holdfast get clusters -n demo --watch
  holdfast get clusters -A -o jsonpath='{range .items[*]}{.metadata.name}{"\\t"}{.status.phase}{"\\n"}{end}'
  holdfast get inst -n demo -o custom-columns=NAME:.metadata.name,ROLE:.status.role,NODE:.spec.nodeName
  holdfast get ops -n demo --sort-by=.metadata.creationTimestamp

Options:
  -n, --namespace        Namespace (default: default)
  -A, --all-namespaces   List across all namespaces
  -o, --output           table (default), wide, json, yaml, name, jsonpath=TEMPLATE
                         (kubectl's JSONPath: fields, [n], [*], [a:b], ..name, [?(@.f=="v")],
                         {range}...{end}) or custom-columns=HEADER:PATH,...
  -l, --selector         Label selector, e.g. app.kubernetes.io/instance=pg
      --sort-by PATH     Order by a JSONPath, e.g. .metadata.creationTimestamp
      --show-labels      Add a LABELS column to the table
  -w, --watch            After listing, print changes as they happen (Ctrl-C to stop)
      --server URL       API server;  --home DIR  Holdfast home
`;

const GET_FLAGS = {
  ...NAMESPACE_FLAGS,
  output: { type: "string", short: "o" },
  selector: { type: "string", short: "l" },
  watch: { type: "boolean", short: "w" },
  "sort-by": { type: "string" },
  "show-labels": { type: "boolean" },
} as const;

export type { OutputFormat } from "./get-formats.ts";

/** The `-o` flag, checked (jsonpath and custom-columns carry their template: see outputOf). */
export function outputFormatOf(values: FlagValues, command: string): OutputFormat {
  return parseOutput(stringFlag(values, "output") ?? "table", command).format;
}

/** A kubectl-style `List` wrapping several objects. */
export function asList(items: readonly Resource[]): Record<string, unknown> {
  return { apiVersion: "v1", kind: "List", items, metadata: { resourceVersion: "" } };
}

/** Render objects in a non-table format. */
export function renderObjects(info: KindInfo, objects: readonly Resource[], format: OutputFormat, single: boolean, template?: JsonPathTemplate): string {
  if (format === "name") return objects.map((o) => `${qualifiedName(info, o.metadata.name)}\n`).join("");
  const value = single && objects.length === 1 ? objects[0] : asList(objects);
  if (template !== undefined) return template.render(value);
  return format === "json" ? toJson(value) : toYaml(value);
}

interface GetRequest {
  info: KindInfo;
  names: string[];
  namespace: string | undefined;
  format: OutputFormat;
  output: Output;
  selector: string | undefined;
  sortBy: JsonPathTemplate | undefined;
  showLabels: boolean;
  /** What the table shows besides the objects (Node: the controllers' leader). */
  context?: TableContext;
}

async function fetchNamed(ctx: CliContext, client: ApiClient, request: GetRequest): Promise<{ objects: Resource[]; failed: boolean }> {
  const objects: Resource[] = [];
  let failed = false;
  for (const name of request.names) {
    try {
      objects.push(await client.get(request.info, request.namespace, name));
    } catch (error) {
      if (!(error instanceof ApiError) || error.code !== 404) throw error;
      failed = true;
      ctx.io.err(describeError(error).text);
    }
  }
  return { objects, failed };
}

function noneFoundMessage(request: GetRequest): string {
  if (!request.info.namespaced || request.namespace === undefined) return "No resources found\n";
  return `No resources found in ${request.namespace} namespace.\n`;
}

/** The table a request prints: custom columns or the kind's, with labels when asked. */
function tableOf(request: GetRequest): TableSpec {
  const table = request.output.columns ?? tableFor(request.info, request.format === "wide", request.namespace === undefined, request.context);
  return request.showLabels ? withLabels(table) : table;
}

/** Objects in the order asked (--sort-by), else the table's usual order. */
function ordered(request: GetRequest, objects: readonly Resource[]): Resource[] {
  return request.sortBy === undefined ? sortForTable(request.info, objects) : sortBy(objects, request.sortBy);
}

function printTable(ctx: CliContext, request: GetRequest, objects: readonly Resource[]): number[] {
  const table = tableOf(request);
  const rows = ordered(request, objects).map((object) => table.row(object, ctx.now()));
  ctx.io.out(formatTable(table.headers, rows));
  return columnWidths(table.headers, rows);
}

async function watchChanges(ctx: CliContext, client: ApiClient, request: GetRequest, from: { resourceVersion: string | undefined; widths: number[] }): Promise<void> {
  const table = tableOf(request);
  const only = request.names.length === 1 ? request.names[0] : undefined;
  const options = {
    ...(from.resourceVersion === undefined ? {} : { resourceVersion: from.resourceVersion }),
    ...(request.selector === undefined ? {} : { labelSelector: request.selector }),
    ...(only === undefined ? {} : { fieldSelector: `metadata.name=${only}` }),
  };
  for await (const event of client.watch(request.info, request.namespace, options)) {
    if (event.type === "BOOKMARK") continue;
    if (event.type === "ERROR") throw new ApiError(500, "WatchError", text(event.object, "message", "the watch failed"));
    if (request.names.length > 0 && !request.names.includes(event.object.metadata.name)) continue;
    if (isTable(request.format)) {
      ctx.io.out(formatRow(table.row(event.object, ctx.now()), from.widths) + "\n");
    } else {
      ctx.io.out((request.format === "yaml" ? "---\n" : "") + renderObjects(request.info, [event.object], request.format, true, request.output.template));
    }
  }
}

function isTable(format: OutputFormat): boolean {
  return format === "table" || format === "wide" || format === "custom-columns";
}

function printHeader(ctx: CliContext, request: GetRequest): number[] {
  const table = tableOf(request);
  // Without rows to measure, leave room for typical names so watched rows line up.
  const widths = table.headers.map((header) => Math.max(header.length, 16));
  ctx.io.out(formatRow(table.headers, widths) + "\n");
  return widths;
}

/** The highest resourceVersion among objects, to watch from (the store's versions are one monotonic counter). */
export function newestResourceVersion(objects: readonly Resource[]): string | undefined {
  const versions = objects.map((o) => Number(o.metadata.resourceVersion)).filter((v) => Number.isFinite(v));
  return versions.length === 0 ? undefined : String(Math.max(...versions));
}

function requestOf(args: { values: FlagValues; positionals: string[] }): GetRequest {
  const { info, names } = parseTarget(args.positionals, "get");
  const allNamespaces = boolFlag(args.values, "all-namespaces");
  if (allNamespaces && names.length > 0) throw new UsageError("a NAME cannot be combined with --all-namespaces; pass -n NAMESPACE", "get");
  const selector = stringFlag(args.values, "selector");
  if (selector !== undefined && names.length > 0) throw new UsageError("a NAME cannot be combined with a label selector", "get");
  const output = parseOutput(stringFlag(args.values, "output") ?? "table", "get");
  const sortPath = stringFlag(args.values, "sort-by");
  return {
    info,
    names,
    namespace: allNamespaces ? undefined : info.namespaced ? namespaceOf(args.values) : undefined,
    format: output.format,
    output,
    selector,
    sortBy: sortPath === undefined ? undefined : parseTemplate(sortPath),
    showLabels: boolFlag(args.values, "show-labels"),
  };
}

interface Fetched {
  objects: Resource[];
  failed: boolean;
  resourceVersion: string | undefined;
}

async function fetchObjects(ctx: CliContext, client: ApiClient, request: GetRequest): Promise<Fetched> {
  if (request.names.length > 0) {
    const { objects, failed } = await fetchNamed(ctx, client, request);
    return { objects, failed, resourceVersion: newestResourceVersion(objects) };
  }
  const listed = await client.list(request.info, request.namespace, request.selector === undefined ? {} : { labelSelector: request.selector });
  return { objects: listed.items, failed: false, resourceVersion: listed.metadata.resourceVersion };
}

/** Print what was fetched; returns the table's column widths (empty when no table was printed). */
function printObjects(ctx: CliContext, request: GetRequest, fetched: Fetched): number[] {
  const { objects, failed } = fetched;
  if (isTable(request.format)) {
    if (objects.length === 0 && !failed) ctx.io.err(noneFoundMessage(request));
    return objects.length > 0 ? printTable(ctx, request, objects) : [];
  }
  if (objects.length > 0 || request.names.length === 0) {
    ctx.io.out(renderObjects(request.info, request.sortBy === undefined ? objects : ordered(request, objects), request.format, request.names.length === 1, request.output.template));
  }
  return [];
}

/** Run `holdfast get`. */
export async function runGet(ctx: CliContext, argv: readonly string[]): Promise<number> {
  const args = parseFlags(argv, GET_FLAGS, "get");
  if (boolFlag(args.values, "help")) {
    ctx.io.out(GET_HELP);
    return 0;
  }
  const request = requestOf(args);
  const client = clientOf(ctx, args.values);
  if (request.info.kind === "Node" && isTable(request.format)) request.context = { leader: await controllerLeader(client) };
  const fetched = await fetchObjects(ctx, client, request);
  let widths = printObjects(ctx, request, fetched);
  if (boolFlag(args.values, "watch")) {
    if (widths.length === 0 && isTable(request.format)) widths = printHeader(ctx, request);
    await watchChanges(ctx, client, request, { resourceVersion: fetched.resourceVersion, widths });
  }
  return fetched.failed ? 1 : 0;
}
