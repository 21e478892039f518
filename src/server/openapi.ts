/**
 * OpenAPI documents generated from the kinds' zod schemas: v3 per group version (`/openapi/v3/apis/{group}/{version}`,
 * what `kubectl explain` and kubectl's apply read), its index (`/openapi/v3`), and v2 as JSON (`/openapi/v2`).
 * Each kind's schema carries `x-kubernetes-group-version-kind`; lists that merge by a key carry Kubernetes' list and
 * patch extensions (list-merge-keys.ts), so kubectl's client-side apply builds the same strategic merge patch the
 * server applies.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { allKinds, apiVersionOf, fieldSupportOf, listMergeOf, type KindInfo } from "../api/index.ts";
import { kindsOf, prefixOf } from "./route.ts";

type JsonObject = Record<string, unknown>;

/** What the documents need to know about each kind: its schema (absent: any object) and whether users may write it. */
export interface KindSchemas {
  schemaOf(kind: KindInfo): z.ZodType | undefined;
  writable(kind: KindInfo): boolean;
}

const STANDARD_DESCRIPTIONS: Record<string, string> = {
  apiVersion: "APIVersion defines the versioned schema of this representation of an object.",
  kind: "Kind is a string value representing the REST resource this object represents.",
  metadata: "Standard object's metadata: name, namespace, labels, annotations, and what the server sets (uid, resourceVersion, generation, managedFields).",
  spec: "The desired state of the object.",
  status: "The observed state of the object, written by Holdfast's controllers (read-only for users).",
};

/** `io.kubeblocks.apps.v1.Cluster`, as Kubernetes names definitions (the core group is `io.k8s.api.core`). */
export function definitionName(kind: KindInfo): string {
  const group = kind.group === "" ? "io.k8s.api.core" : kind.group.split(".").reverse().join(".");
  return `${group}.${kind.version}.${kind.kind}`;
}

function gvk(kind: KindInfo): JsonObject[] {
  return [{ group: kind.group, version: kind.version, kind: kind.kind }];
}

/** The OpenAPI 3.0 schema of one kind, with its GVK and list extensions. */
export function kindSchema(kind: KindInfo, schemas: KindSchemas): JsonObject {
  const zod = schemas.schemaOf(kind);
  const base: JsonObject = zod === undefined ? { type: "object", "x-kubernetes-preserve-unknown-fields": true } : z.toJSONSchema(zod, { io: "input", unrepresentable: "any", target: "openapi-3.0", override: describeSupport });
  const properties = isObject(base["properties"]) ? base["properties"] : {};
  for (const [field, description] of Object.entries(STANDARD_DESCRIPTIONS)) {
    const property = properties[field];
    if (isObject(property) && property["description"] === undefined) property["description"] = description;
  }
  forKubectl(base);
  annotateLists(base, "", kind.kind);
  return { ...base, description: base["description"] ?? `${kind.kind} (${apiVersionOf(kind)}), served by Holdfast.`, "x-kubernetes-group-version-kind": gvk(kind) };
}

/** A field Holdfast does not honour, or refuses, says so in its description (what kubectl explain prints). */
function describeSupport(context: { zodSchema: z.core.$ZodType; jsonSchema: JsonObject }): void {
  const note = fieldSupportOf(context.zodSchema);
  if (note === undefined) return;
  const said = note.support === "refused" ? `Refused by Holdfast: ${note.message}.` : `Holdfast: ${note.message}.`;
  const own = context.jsonSchema["description"];
  context.jsonSchema["description"] = typeof own === "string" ? `${own} ${said}` : said;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const SCALARS = new Set(["integer", "number", "string"]);

/**
 * Shape a generated schema the way Kubernetes' own documents are, which kubectl's explain templates expect: every
 * schema has a type; "any value" (`{}`) and open objects (`additionalProperties: {}`) say
 * `x-kubernetes-preserve-unknown-fields`; a number-or-string (a quantity) says `x-kubernetes-int-or-string`.
 */
function forKubectl(schema: unknown): void {
  if (!isObject(schema)) return;
  const additional = schema["additionalProperties"];
  if (isObject(additional) && Object.keys(additional).length === 0) {
    delete schema["additionalProperties"];
    schema["x-kubernetes-preserve-unknown-fields"] = true;
  }
  subschemas(schema).forEach(forKubectl);
  if (schema["type"] !== undefined || schema["$ref"] !== undefined) return;
  const variants = [schema["anyOf"], schema["oneOf"]].flatMap((v) => (Array.isArray(v) ? (v as unknown[]) : []));
  const types = new Set(variants.map((v) => (isObject(v) ? v["type"] : undefined)));
  delete schema["anyOf"];
  delete schema["oneOf"];
  const [only] = types;
  if (types.size === 1 && typeof only === "string") schema["type"] = only;
  else if (types.size > 0 && [...types].every((t) => typeof t === "string" && SCALARS.has(t))) Object.assign(schema, { type: "string", "x-kubernetes-int-or-string": true });
  else Object.assign(schema, { type: "object", "x-kubernetes-preserve-unknown-fields": true });
}

/** The schemas directly inside a schema: properties, items, additionalProperties and the variants of a union. */
function subschemas(schema: JsonObject): unknown[] {
  const properties = isObject(schema["properties"]) ? Object.values(schema["properties"]) : [];
  const variants = ["anyOf", "oneOf", "allOf"].flatMap((key) => (Array.isArray(schema[key]) ? (schema[key] as unknown[]) : []));
  return [...properties, schema["items"], schema["additionalProperties"], ...variants];
}

/** Add `x-kubernetes-list-type` and the patch strategy to every array whose path merges by key or as a set. */
function annotateLists(schema: unknown, path: string, kind: string): void {
  if (!isObject(schema)) return;
  for (const variant of ["anyOf", "oneOf", "allOf"]) {
    const list = schema[variant];
    if (Array.isArray(list)) for (const item of list) annotateLists(item, path, kind);
  }
  if (schema["type"] === "array") {
    Object.assign(schema, listExtensions(kind, path));
    annotateLists(schema["items"], path, kind);
  }
  const properties = schema["properties"];
  if (isObject(properties)) for (const [key, child] of Object.entries(properties)) annotateLists(child, path === "" ? key : `${path}.${key}`, kind);
}

function listExtensions(kind: string, path: string): JsonObject {
  const merge = listMergeOf(kind, path);
  if (merge === undefined) return {};
  if (merge.type === "set") return { "x-kubernetes-list-type": "set", "x-kubernetes-patch-strategy": "merge" };
  return { "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": [merge.key], "x-kubernetes-patch-strategy": "merge", "x-kubernetes-patch-merge-key": merge.key };
}

const PATCH_TYPES = ["application/merge-patch+json", "application/json-patch+json", "application/strategic-merge-patch+json", "application/apply-patch+yaml"];

function queryParameter(name: string, description: string, type = "string"): JsonObject {
  return { name, in: "query", description, schema: { type }, allowEmptyValue: false };
}

const DRY_RUN = queryParameter("dryRun", "All: check and answer as if written, but store nothing.");
const FIELD_MANAGER = queryParameter("fieldManager", "The name of the actor making the change (required for apply).");
const FIELD_VALIDATION = queryParameter("fieldValidation", "Ignore, Warn or Strict: what to do with fields the kind does not have.");
const WRITE_PARAMETERS = [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION];

function pathParameter(name: string): JsonObject {
  return { name, in: "path", required: true, description: `the ${name} of the object`, schema: { type: "string" } };
}

function response(ref: string, description = "OK"): JsonObject {
  return { description, content: { "application/json": { schema: { $ref: ref } } } };
}

function operation(kind: KindInfo, action: string, id: string, extra: JsonObject): JsonObject {
  return { operationId: `${action}${kind.kind}${id}`, tags: [apiVersionOf(kind)], "x-kubernetes-action": action, "x-kubernetes-group-version-kind": gvk(kind)[0], ...extra };
}

/** The paths of one kind: its collection(s) and its objects, with the verbs users may use on them. */
function kindPaths(kind: KindInfo, writable: boolean): Record<string, JsonObject> {
  const ref = `#/components/schemas/${definitionName(kind)}`;
  const ok = { responses: { "200": response(ref) } };
  const scope = kind.namespaced ? `${prefixOf(kind)}/namespaces/{namespace}/${kind.plural}` : `${prefixOf(kind)}/${kind.plural}`;
  const scopeParameters = kind.namespaced ? [pathParameter("namespace")] : [];
  const body = { required: true, content: { "application/json": { schema: { $ref: ref } } } };
  const collection: JsonObject = { parameters: scopeParameters, get: operation(kind, "list", "", { responses: { "200": { description: "OK", content: { "application/json": { schema: { type: "object" } } } } } }) };
  const object: JsonObject = { parameters: [...scopeParameters, pathParameter("name")], get: operation(kind, "get", "", ok) };
  if (writable) {
    collection["post"] = operation(kind, "post", "", { parameters: WRITE_PARAMETERS, requestBody: body, responses: { "201": response(ref, "Created"), "200": response(ref) } });
    object["put"] = operation(kind, "put", "", { parameters: WRITE_PARAMETERS, requestBody: body, ...ok });
    object["patch"] = operation(kind, "patch", "", {
      parameters: [...WRITE_PARAMETERS, queryParameter("force", "Take the fields other managers own (apply only).", "boolean")],
      requestBody: { required: true, content: Object.fromEntries(PATCH_TYPES.map((type) => [type, { schema: { type: "object" } }])) },
      responses: { "200": response(ref), "201": response(ref, "Created") },
    });
    object["delete"] = operation(kind, "delete", "", { parameters: [DRY_RUN], responses: { "200": { description: "OK" } } });
  }
  const paths: Record<string, JsonObject> = { [scope]: collection, [`${scope}/{name}`]: object };
  if (kind.namespaced) paths[`${prefixOf(kind)}/${kind.plural}`] = { get: operation(kind, "list", "ForAllNamespaces", { responses: { "200": { description: "OK" } } }) };
  return paths;
}

/** The OpenAPI 3.0 document of one group version (`group` is "" for the core group). */
export function openApiV3Document(group: string, version: string, schemas: KindSchemas, serverVersion: string): JsonObject {
  const kinds = kindsOf(group, version);
  const components = Object.fromEntries(kinds.map((kind) => [definitionName(kind), kindSchema(kind, schemas)]));
  const paths = Object.assign({}, ...kinds.map((kind) => kindPaths(kind, schemas.writable(kind)))) as JsonObject;
  return { openapi: "3.0.0", info: { title: "Holdfast", version: serverVersion }, paths, components: { schemas: components } };
}

/** The group versions that have an OpenAPI v3 document, as their path below `/openapi/v3/`. */
export function openApiV3GroupVersions(): string[] {
  return [...new Set(allKinds().map((kind) => (kind.group === "" ? `api/${kind.version}` : `apis/${kind.group}/${kind.version}`)))].sort();
}

/** The documents of one server; they depend only on the code, so each is built once, on first use. */
export interface OpenApi {
  /** `GET /openapi/v3`: where each group version's document is, with a hash so clients can cache it. */
  v3Index(): JsonObject;
  /** `GET /openapi/v3/{path}`, or undefined when no group version is served there. */
  v3(path: string): JsonObject | undefined;
  /** `GET /openapi/v2` as JSON. */
  v2(): JsonObject;
}

/** The OpenAPI documents of a server. */
export function createOpenApi(schemas: KindSchemas, serverVersion: string): OpenApi {
  const documents = new Map<string, JsonObject>();
  const v3 = (path: string): JsonObject | undefined => {
    if (!openApiV3GroupVersions().includes(path)) return undefined;
    let document = documents.get(path);
    if (document === undefined) {
      const [group, version] = groupVersionOf(path);
      document = openApiV3Document(group, version, schemas, serverVersion);
      documents.set(path, document);
    }
    return document;
  };
  let index: JsonObject | undefined;
  let v2: JsonObject | undefined;
  return {
    v3,
    v3Index: () => (index ??= { paths: Object.fromEntries(openApiV3GroupVersions().map((path) => [path, { serverRelativeURL: `/openapi/v3/${path}?hash=${hashOf(v3(path))}` }])) }),
    v2: () => (v2 ??= openApiV2Json(schemas, serverVersion)),
  };
}

function hashOf(document: unknown): string {
  return createHash("sha512").update(JSON.stringify(document)).digest("hex").toUpperCase();
}

/** `api/v1` → ["", "v1"]; `apis/g/v` → ["g", "v"]. */
export function groupVersionOf(path: string): [string, string] {
  const parts = path.split("/");
  return parts[0] === "api" ? ["", parts[1] ?? ""] : [parts[1] ?? "", parts[2] ?? ""];
}

/** Swagger 2.0 with every kind's definition (the paths are in the v3 documents). */
function openApiV2Json(schemas: KindSchemas, serverVersion: string): JsonObject {
  const definitions: JsonObject = {};
  for (const path of openApiV3GroupVersions()) {
    const [group, version] = groupVersionOf(path);
    for (const kind of kindsOf(group, version)) definitions[definitionName(kind)] = kindSchema(kind, schemas);
  }
  return { swagger: "2.0", info: { title: "Holdfast", version: serverVersion }, paths: {}, definitions };
}
