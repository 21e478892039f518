/**
 * Server-side printing: `Accept: application/json;as=Table;g=meta.k8s.io;v=v1` (or v1beta1) answers a get, list or
 * watch with a meta.k8s.io Table whose columns are the ones `holdfast get` prints (src/api/printer-columns.ts), so
 * `kubectl get` shows them too. `?includeObject=None|Metadata|Object` says what each row carries (Metadata by default).
 */
import { printerColumns, type KindInfo, type Resource } from "../api/index.ts";

/** The Table version a client asked for. */
export type TableVersion = "meta.k8s.io/v1" | "meta.k8s.io/v1beta1";

interface MediaRange {
  type: string;
  params: Map<string, string>;
}

function parseAccept(header: string): MediaRange[] {
  return header.split(",").map((range) => {
    const [type = "", ...params] = range.split(";").map((part) => part.trim());
    const entries = params.map((p): [string, string] => {
      const at = p.indexOf("=");
      return at === -1 ? [p.toLowerCase(), ""] : [p.slice(0, at).trim().toLowerCase(), p.slice(at + 1).trim().replace(/^"|"$/g, "")];
    });
    return { type: type.toLowerCase(), params: new Map(entries) };
  });
}

/**
 * The Table version to answer with, if the first media range of `accept` that the server can serve is a Table;
 * undefined: answer the objects themselves (a client that lists a plain `application/json` first gets objects).
 */
export function tableVersionOf(accept: string | undefined): TableVersion | undefined {
  for (const range of parseAccept(accept ?? "")) {
    const as = range.params.get("as");
    const jsonLike = range.type === "application/json" || range.type === "*/*" || range.type === "application/*";
    if (!jsonLike) continue;
    if (as === undefined) return undefined;
    const version = range.params.get("v");
    if (as === "Table" && range.params.get("g") === "meta.k8s.io" && (version === "v1" || version === "v1beta1")) return `meta.k8s.io/${version}`;
  }
  return undefined;
}

/** What each row carries besides its cells. */
export type IncludeObject = "None" | "Metadata" | "Object";

/** `?includeObject=` (checked by query-params.ts), Metadata by default. */
export function includeObjectOf(query: URLSearchParams): IncludeObject {
  const value = query.get("includeObject");
  return value === "None" || value === "Object" ? value : "Metadata";
}

/** How tables of one request are built. */
export interface TableRequest {
  kind: KindInfo;
  version: TableVersion;
  include: IncludeObject;
}

function rowObject(object: Resource, request: TableRequest): unknown {
  if (request.include === "Object") return object;
  if (request.include === "None") return undefined;
  return { kind: "PartialObjectMetadata", apiVersion: request.version, metadata: object.metadata };
}

/** A Table of `objects` with the kind's printer columns (`resourceVersion` of the list, if any). */
export function toTable(objects: readonly Resource[], request: TableRequest, resourceVersion?: string): unknown {
  const columns = printerColumns(request.kind.kind);
  const now = new Date();
  const columnDefinitions = columns.map((column) => ({
    name: column.name,
    type: "string",
    format: column.name === "NAME" ? "name" : "",
    description: column.name === "NAME" ? "Name must be unique within a namespace." : `${column.name} as holdfast get prints it`,
    priority: column.priority,
  }));
  const rows = objects.map((object) => {
    const cells = columns.map((column) => column.cell(object, now));
    const carried = rowObject(object, request);
    return carried === undefined ? { cells } : { cells, object: carried };
  });
  return { kind: "Table", apiVersion: request.version, metadata: resourceVersion === undefined ? {} : { resourceVersion }, columnDefinitions, rows };
}
