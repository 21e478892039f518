/** Manifests: multi-document YAML or JSON, split and checked before anything is sent. */
import { isDeepStrictEqual } from "node:util";
import { parseAllDocuments } from "yaml";
import type { KindInfo, Resource } from "../api/index.ts";
import { CliError } from "./args.ts";
import { kindInfoOf } from "./client.ts";

/** A manifest object with its kind resolved. */
export interface ManifestObject {
  info: KindInfo;
  object: Resource;
  /** Where it came from, for messages: `file.yaml#2`. */
  origin: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Parse every document of a YAML/JSON text; throws on the first syntax error, with its line and column. */
export function parseDocuments(text: string, source: string): { value: unknown; origin: string }[] {
  const documents = parseAllDocuments(text, { prettyErrors: true });
  if (!Array.isArray(documents)) return [];
  const values: { value: unknown; origin: string }[] = [];
  documents.forEach((document, index) => {
    const error = document.errors[0];
    if (error) throw new CliError(`${source}: invalid YAML in document ${index + 1}: ${error.message.trim()}`);
    const value: unknown = document.toJS();
    if (value !== null && value !== undefined) values.push({ value, origin: `${source}#${index + 1}` });
  });
  return values;
}

/** Expand `List` documents into their items. */
export function expandLists(documents: { value: unknown; origin: string }[]): { value: unknown; origin: string }[] {
  return documents.flatMap((document) => {
    const value = document.value;
    if (isRecord(value) && typeof value["kind"] === "string" && value["kind"].endsWith("List") && Array.isArray(value["items"])) {
      return value["items"].map((item: unknown, index) => ({ value: item, origin: `${document.origin} items[${index}]` }));
    }
    return [document];
  });
}

/** Check one document is an object Holdfast serves, with a name. */
export function toManifestObject(value: unknown, origin: string): ManifestObject {
  if (!isRecord(value)) throw new CliError(`${origin}: a manifest must be an object with apiVersion, kind and metadata`);
  const { apiVersion, kind, metadata } = value;
  if (typeof apiVersion !== "string" || apiVersion === "") throw new CliError(`${origin}: apiVersion is missing`);
  if (typeof kind !== "string" || kind === "") throw new CliError(`${origin}: kind is missing`);
  if (!isRecord(metadata) || typeof metadata["name"] !== "string" || metadata["name"] === "") {
    throw new CliError(`${origin}: metadata.name is missing; every object needs a name`);
  }
  let info: KindInfo;
  try {
    info = kindInfoOf({ apiVersion, kind });
  } catch (error) {
    throw new CliError(`${origin}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return { info, object: value as Resource, origin };
}

/** Parse, expand and check all manifests of one text. */
export function parseManifests(text: string, source: string): ManifestObject[] {
  return expandLists(parseDocuments(text, source)).map(({ value, origin }) => toManifestObject(value, origin));
}

/**
 * Put a namespaced object into a namespace: the manifest's own wins; `-n` fills it in when absent
 * and, when given explicitly, must not contradict it. Cluster-scoped objects carry none.
 */
export function placeInNamespace(manifest: ManifestObject, namespace: string, explicit: boolean): ManifestObject {
  const metadata = { ...manifest.object.metadata };
  if (!manifest.info.namespaced) {
    delete metadata.namespace;
  } else if (metadata.namespace === undefined || metadata.namespace === "") {
    metadata.namespace = namespace;
  } else if (explicit && metadata.namespace !== namespace) {
    throw new CliError(
      `${manifest.origin}: the namespace of the object (${metadata.namespace}) does not match the namespace given with -n (${namespace})`,
    );
  }
  return { ...manifest, object: { ...manifest.object, metadata } };
}

function mergeMaps(live?: Record<string, string>, wanted?: Record<string, string>): Record<string, string> | undefined {
  if (live === undefined && wanted === undefined) return undefined;
  return { ...live, ...wanted };
}

/**
 * The object to PUT: the manifest's top-level fields (spec, data, ...) replace the live ones,
 * labels and annotations are merged, and server-owned metadata (uid, resourceVersion) comes from the live object.
 */
export function mergeForUpdate(manifest: Resource, live: Resource): Resource {
  const { metadata: wantedMeta, status: _ignoredStatus, ...wanted } = manifest;
  const metadata = { ...live.metadata };
  const labels = mergeMaps(live.metadata.labels, wantedMeta.labels);
  const annotations = mergeMaps(live.metadata.annotations, wantedMeta.annotations);
  if (labels !== undefined) metadata.labels = labels;
  if (annotations !== undefined) metadata.annotations = annotations;
  if (wantedMeta.finalizers !== undefined) metadata.finalizers = wantedMeta.finalizers;
  if (wantedMeta.ownerReferences !== undefined) metadata.ownerReferences = wantedMeta.ownerReferences;
  return { ...live, ...wanted, metadata };
}

/** Everything users write, minus metadata and status. */
function content(object: Resource): Record<string, unknown> {
  const { metadata: _metadata, status: _status, ...rest } = object;
  return rest;
}

function sameLabelsAndAnnotations(a: Resource, b: Resource): boolean {
  return (
    isDeepStrictEqual(a.metadata.labels ?? {}, b.metadata.labels ?? {}) &&
    isDeepStrictEqual(a.metadata.annotations ?? {}, b.metadata.annotations ?? {}) &&
    isDeepStrictEqual(a.metadata.finalizers ?? [], b.metadata.finalizers ?? []) &&
    isDeepStrictEqual(a.metadata.ownerReferences ?? [], b.metadata.ownerReferences ?? [])
  );
}

/** Would PUTting `desired` change nothing users wrote on `live`? Then apply need not send it. */
export function isUnchanged(desired: Resource, live: Resource): boolean {
  return sameLabelsAndAnnotations(desired, live) && isDeepStrictEqual(content(desired), content(live));
}

/**
 * Did an update change the object? The server's generation answers for the spec (it is bumped only
 * by spec changes, and it sees its own defaults); metadata maps and kinds without generation are compared directly.
 */
export function updateChanged(live: Resource, updated: Resource): boolean {
  if (!sameLabelsAndAnnotations(live, updated)) return true;
  const before = live.metadata.generation;
  const after = updated.metadata.generation;
  if (before !== undefined && after !== undefined) return before !== after;
  return !isDeepStrictEqual(content(live), content(updated));
}

/** kubectl's name for an object in messages: `cluster.apps.kubeblocks.io/pg`, `namespace/demo`. */
export function qualifiedName(info: KindInfo, name: string): string {
  return info.group === "" ? `${info.singular}/${name}` : `${info.singular}.${info.group}/${name}`;
}
