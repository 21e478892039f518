/** API discovery documents, enough for a client to map kinds to paths (kubectl-style). */
import { allKinds, type KindInfo } from "../api/index.ts";
import { kindsOf, servedGroups } from "./route.ts";

const READ_VERBS = ["get", "list", "watch"];
const WRITE_VERBS = ["create", "update", "patch", "delete"];
// Kinds whose status is a subresource that controllers write.
const WITH_STATUS = new Set(["Namespace", "Cluster", "OpsRequest", "Instance", "Node"]);

/** One entry of APIResourceList.resources. */
export interface ApiResource {
  name: string;
  singularName: string;
  namespaced: boolean;
  kind: string;
  verbs: string[];
  shortNames?: string[];
}

/** `GET /api`. */
export function apiVersions(): unknown {
  return { kind: "APIVersions", apiVersion: "v1", versions: ["v1"], serverAddressByClientCIDRs: [] };
}

function groupEntry(group: string): unknown {
  const versions = [...new Set(allKinds().filter((k) => k.group === group).map((k) => k.version))];
  const entries = versions.map((version) => ({ groupVersion: `${group}/${version}`, version }));
  return { name: group, versions: entries, preferredVersion: entries[0] };
}

/** `GET /apis`. */
export function apiGroupList(): unknown {
  return { kind: "APIGroupList", apiVersion: "v1", groups: servedGroups().map(groupEntry) };
}

/** `GET /apis/{group}`. */
export function apiGroup(group: string): unknown {
  return { kind: "APIGroup", apiVersion: "v1", ...(groupEntry(group) as object) };
}

/** `GET /api/v1` or `GET /apis/{group}/{version}`; `writable` tells whether users may write a kind. */
export function apiResourceList(group: string, version: string, writable: (kind: KindInfo) => boolean): unknown {
  const resources: ApiResource[] = [];
  for (const kind of kindsOf(group, version)) {
    const canWrite = writable(kind);
    const verbs = canWrite ? [...WRITE_VERBS, ...READ_VERBS] : [...READ_VERBS];
    const resource: ApiResource = { name: kind.plural, singularName: kind.singular, namespaced: kind.namespaced, kind: kind.kind, verbs };
    if (kind.shortNames.length > 0) resource.shortNames = [...kind.shortNames];
    resources.push(resource);
    if (WITH_STATUS.has(kind.kind)) {
      resources.push({ name: `${kind.plural}/status`, singularName: "", namespaced: kind.namespaced, kind: kind.kind, verbs: canWrite ? ["get", "patch", "update"] : ["get"] });
    }
  }
  const groupVersion = group === "" ? version : `${group}/${version}`;
  return { kind: "APIResourceList", apiVersion: "v1", groupVersion, resources };
}


/** Where the running code came from; what is not known is reported empty, as Kubernetes does for a plain build. */
export interface BuildInfo {
  gitCommit?: string;
  gitTreeState?: string;
  buildDate?: string;
}

/** `GET /version`: every field of Kubernetes' version.Info, for Holdfast and the runtime it runs on. */
export function versionInfo(version: string, build: BuildInfo = {}): Record<string, string> {
  const [major = "0", minor = "0"] = version.split(".");
  return {
    major,
    minor,
    gitVersion: version.startsWith("v") ? version : `v${version}`,
    gitCommit: build.gitCommit ?? "",
    gitTreeState: build.gitTreeState ?? "",
    buildDate: build.buildDate ?? "1970-01-01T00:00:00Z",
    // Kubernetes names the toolchain goVersion; Holdfast runs on Node.js.
    goVersion: `node${process.versions.node}`,
    compiler: "v8",
    platform: `${process.platform}/${GO_ARCH[process.arch] ?? process.arch}`,
  };
}

// Node's names for architectures → the GOARCH names clients compare with.
const GO_ARCH: Readonly<Record<string, string>> = { x64: "amd64", ia32: "386", arm64: "arm64", arm: "arm", ppc64: "ppc64le", s390x: "s390x" };

/** The media type of the protobuf OpenAPI v2 document, as Kubernetes answers it. */
export const OPENAPI_V2_MEDIA_TYPE = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

/**
 * `GET /openapi/v2`: a valid OpenAPI v2 document (protobuf, as kubectl asks for it) that publishes no schemas.
 * kubectl refuses to apply without one; with it, kubectl skips client-side schema checks for kinds it does not
 * find, and admission validates every object in any case.
 */
export function openApiV2Document(version: string): Uint8Array {
  // gnostic openapi_v2.Document: swagger = 1 (string), info = 2 (Info: title = 1, version = 2).
  const info = Buffer.concat([protoString(1, "Holdfast"), protoString(2, version)]);
  return Buffer.concat([protoString(1, "2.0"), protoField(2, info)]);
}

function protoString(field: number, value: string): Buffer {
  return protoField(field, Buffer.from(value, "utf8"));
}

/** A length-delimited protobuf field (wire type 2); lengths here are always below 128, one varint byte. */
function protoField(field: number, bytes: Buffer): Buffer {
  if (bytes.length > 127) throw new Error("protoField handles only short fields");
  return Buffer.concat([Buffer.from([(field << 3) | 2, bytes.length]), bytes]);
}
