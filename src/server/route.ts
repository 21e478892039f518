/** Kubernetes-style URL paths → what they address. Pure: no I/O, no store. */
import { allKinds, apiVersionOf, namespaceNameProblem, objectNameProblem, type KindInfo } from "../api/index.ts";
import { InputError, NotFoundError } from "../errors/index.ts";

/** A path that addresses resources of one kind. */
export interface ResourceRoute {
  type: "resource";
  kind: KindInfo;
  /** Namespace from the path; absent for cluster-scoped kinds and for lists across namespaces. */
  namespace?: string;
  /** Object name; absent for collections. */
  name?: string;
  subresource?: "status";
}

/** What a request path addresses. */
export type Route =
  | { type: "healthz" }
  | { type: "version" }
  | { type: "openapiV2" }
  | { type: "openapiV3Index" }
  | { type: "openapiV3"; path: string }
  | { type: "apiVersions" }
  | { type: "groupList" }
  | { type: "group"; group: string }
  | { type: "resourceList"; group: string; version: string }
  | ResourceRoute;

/** Kinds served under one group/version. */
export function kindsOf(group: string, version: string): KindInfo[] {
  return allKinds().filter((k) => k.group === group && k.version === version);
}

/** Parse a request path (without query). Throws NotFoundError naming what is served instead. */
export function parseRoute(pathname: string): Route {
  const segments = splitPath(pathname);
  const [first, ...rest] = segments;
  if (segments.length === 1 && first === "healthz") return { type: "healthz" };
  if (segments.length === 1 && first === "version") return { type: "version" };
  if (first === "openapi") return parseOpenApi(segments, pathname);
  if (first === "api") return parseCore(rest, pathname);
  if (first === "apis") return parseGroups(rest, pathname);
  throw new NotFoundError(`the server could not find the requested resource ${pathname}; paths start with /api/v1 or /apis/{group}/{version}`);
}

function parseOpenApi(segments: string[], pathname: string): Route {
  const [, version, ...rest] = segments;
  if (version === "v2" && rest.length === 0) return { type: "openapiV2" };
  if (version === "v3") return rest.length === 0 ? { type: "openapiV3Index" } : { type: "openapiV3", path: rest.join("/") };
  throw new NotFoundError(`the server could not find the requested resource ${pathname}; OpenAPI is at /openapi/v2 and /openapi/v3`);
}

/** The decoded segments of a path; throws NotFoundError on bad percent-encoding. */
export function pathSegments(pathname: string): string[] {
  return splitPath(pathname);
}

function splitPath(pathname: string): string[] {
  const segments = pathname.split("/").filter((s) => s !== "");
  let decoded: string[];
  try {
    decoded = segments.map((s) => decodeURIComponent(s));
  } catch {
    throw new NotFoundError(`the path ${pathname} is not valid percent-encoding`);
  }
  for (const segment of decoded) {
    if (segment === "." || segment === ".." || /[/\\]/.test(segment) || hasControlCharacter(segment)) throw unsafeSegment(pathname);
  }
  return decoded;
}

function hasControlCharacter(text: string): boolean {
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/**
 * Refuse a request target (the path as sent, before any URL parsing) with a `.` or `..` segment, plain or
 * percent-encoded, or a backslash: URL parsing would resolve them and the request would address another object
 * (`secrets/..` is the namespace itself). Kubernetes refuses such paths too.
 */
export function assertPlainRequestTarget(target: string): void {
  if (!target.startsWith("/")) throw new InputError("the request target must be an absolute path, such as /api/v1/namespaces");
  const path = target.split(/[?#]/, 1)[0] ?? "";
  if (path.includes("\\")) throw unsafeSegment(path);
  for (const segment of path.split("/")) {
    const dots = segment.replace(/%2e/gi, ".");
    if (dots === "." || dots === "..") throw unsafeSegment(path);
  }
}

function unsafeSegment(pathname: string): InputError {
  return new InputError(`the path ${JSON.stringify(pathname)} has a segment that is '.', '..' or holds '/', '\\' or a control character; no object name can be one`, {
    causes: [{ field: "metadata.name", reason: "FieldValueInvalid", message: "may not be '.' or '..' and may not contain '/'" }],
  });
}

function parseCore(rest: string[], pathname: string): Route {
  if (rest.length === 0) return { type: "apiVersions" };
  if (rest[0] !== "v1") throw new NotFoundError(`the core API serves only v1 (/api/v1), not ${pathname}`);
  if (rest.length === 1) return { type: "resourceList", group: "", version: "v1" };
  return parseResourcePath("", "v1", rest.slice(1), pathname);
}

function parseGroups(rest: string[], pathname: string): Route {
  const [group, version, ...tail] = rest;
  if (group === undefined) return { type: "groupList" };
  const groupKinds = allKinds().filter((k) => k.group === group && group !== "");
  if (groupKinds.length === 0) throw new NotFoundError(`API group ${group} is not served; served groups: ${servedGroups().join(", ")}`);
  if (version === undefined) return { type: "group", group };
  if (!groupKinds.some((k) => k.version === version)) {
    const versions = [...new Set(groupKinds.map((k) => k.version))];
    throw new NotFoundError(`version ${version} of API group ${group} is not served; served versions: ${versions.join(", ")}`);
  }
  if (tail.length === 0) return { type: "resourceList", group, version };
  return parseResourcePath(group, version, tail, pathname);
}

/** Groups other than the core group, sorted. */
export function servedGroups(): string[] {
  return [...new Set(allKinds().map((k) => k.group).filter((g) => g !== ""))].sort();
}

/** Parses `{plural}[/{name}]` or `namespaces/{ns}/{plural}[/{name}[/status]]` below a group/version. */
function parseResourcePath(group: string, version: string, tail: string[], pathname: string): ResourceRoute {
  const [a, b, c, d, e, ...extra] = tail;
  if (extra.length > 0 || a === undefined) throw notServed(pathname);
  // `/api/v1/namespaces/{name}[/status]` addresses the Namespace itself; a third segment that is not `status` is a plural.
  if (a === "namespaces" && b !== undefined && c !== undefined && c !== "status") {
    const kind = mustPlural(group, version, c);
    if (!kind.namespaced) throw new NotFoundError(`${kind.plural} is cluster-scoped; use ${prefixOf(kind)}/${kind.plural}`);
    assertNamespaceName(b);
    return withName({ type: "resource", kind, namespace: b }, d, e, pathname);
  }
  const kind = mustPlural(group, version, a);
  if (kind.namespaced && b !== undefined) {
    throw new NotFoundError(`${kind.plural} are namespaced; use ${prefixOf(kind)}/namespaces/{namespace}/${kind.plural}/${b}`);
  }
  if (d !== undefined) throw notServed(pathname);
  return withName({ type: "resource", kind }, b, c, pathname);
}

function withName(route: ResourceRoute, name: string | undefined, sub: string | undefined, pathname: string): ResourceRoute {
  if (name === undefined) return route;
  assertObjectName(route.kind, name);
  if (sub === undefined) return { ...route, name };
  if (sub === "status") return { ...route, name, subresource: "status" };
  throw new NotFoundError(`subresource ${sub} is not served (only status) at ${pathname}`);
}

/** A name in a path must be one the kind accepts, so no path addresses what no object can be (400, before any lookup). */
function assertObjectName(kind: KindInfo, name: string): void {
  const problem = objectNameProblem(kind, name);
  if (problem === undefined) return;
  throw new InputError(`${JSON.stringify(name)} is not a valid name for ${kind.plural}: it ${problem}`, {
    subject: { kind: kind.plural, group: kind.group, name },
    causes: [{ field: "metadata.name", reason: "FieldValueInvalid", message: problem }],
  });
}

function assertNamespaceName(namespace: string): void {
  const problem = namespaceNameProblem(namespace);
  if (problem === undefined) return;
  throw new InputError(`${JSON.stringify(namespace)} is not a valid name for a namespace: it ${problem}`, {
    causes: [{ field: "metadata.namespace", reason: "FieldValueInvalid", message: problem }],
  });
}

function findPlural(group: string, version: string, plural: string): KindInfo | undefined {
  return kindsOf(group, version).find((k) => k.plural === plural);
}

function mustPlural(group: string, version: string, plural: string): KindInfo {
  const kind = findPlural(group, version, plural);
  if (kind) return kind;
  const gv = group === "" ? version : `${group}/${version}`;
  const served = kindsOf(group, version).map((k) => k.plural).join(", ");
  throw new NotFoundError(`the server does not serve resource ${plural} in ${gv}; served resources: ${served}`, {
    subject: { kind: plural, group },
  });
}

function notServed(pathname: string): NotFoundError {
  return new NotFoundError(`the server could not find the requested resource ${pathname}`);
}

/** `/api/v1` or `/apis/{group}/{version}`. */
export function prefixOf(kind: KindInfo): string {
  return kind.group === "" ? `/api/${kind.version}` : `/apis/${apiVersionOf(kind)}`;
}

/** The path of a collection or an object, the inverse of parseRoute for resources. */
export function pathOf(kind: KindInfo, namespace: string | undefined, name?: string): string {
  const ns = kind.namespaced && namespace !== undefined ? `/namespaces/${encodeURIComponent(namespace)}` : "";
  const tail = name === undefined ? "" : `/${encodeURIComponent(name)}`;
  return `${prefixOf(kind)}${ns}/${kind.plural}${tail}`;
}
