/** A small client for the Holdfast HTTP API, which follows Kubernetes' paths, verbs and Status errors. */
import { apiVersionOf, kindOf, namespaceNameProblem, objectNameProblem } from "../api/index.ts";
import type { KindInfo, Resource, StatusBody } from "../api/index.ts";
import { CliError } from "./args.ts";
import { Agent, fetch as undiciFetch, type Response as UndiciResponse } from "undici";
import { parseWarningHeader } from "./warnings.ts";

/** One field-level cause of a Status error. */
export interface StatusCause {
  field?: string;
  message: string;
  reason?: string;
}

/** An error answer from the server, carrying its Kubernetes `Status` body. */
export class ApiError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly causes: StatusCause[];

  constructor(code: number, reason: string, message: string, causes: StatusCause[] = []) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.reason = reason;
    this.causes = causes;
  }
}

/** The server could not be reached at all (not running, wrong address). */
export class ServerUnreachableError extends Error {
  readonly url: string;

  constructor(url: string, detail: string) {
    super(
      `cannot reach the Holdfast server at ${url} (${detail}). ` +
        `Is it running? Start it with "holdfast server --detach" (or "npm run quickstart"), ` +
        `or point --server / HOLDFAST_SERVER at a running server.`,
    );
    this.name = "ServerUnreachableError";
    this.url = url;
  }
}

/** A list answer. */
export interface ResourceList {
  items: Resource[];
  metadata: { resourceVersion?: string };
}

/** One watch notification. */
export interface WatchEvent {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: Resource;
}

/** Options of list and watch calls. */
export interface ListOptions {
  labelSelector?: string;
  /** A field selector such as `metadata.name=pg` or `involvedObject.name=pg,involvedObject.kind=Cluster`. */
  fieldSelector?: string;
  resourceVersion?: string;
  signal?: AbortSignal;
}

const REASON_BY_CODE: Record<number, string> = {
  400: "BadRequest",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  405: "MethodNotAllowed",
  409: "Conflict",
  410: "Expired",
  422: "Invalid",
  500: "InternalError",
  503: "ServiceUnavailable",
};

/**
 * The URL path of a kind's collection, or of one object when `name` is given. A name or namespace the kind does not
 * accept is refused here: `..` would otherwise address the namespace itself once the URL is resolved.
 */
export function resourcePath(info: KindInfo, namespace: string | undefined, name?: string): string {
  let path = info.group === "" ? `/api/${info.version}` : `/apis/${info.group}/${info.version}`;
  if (info.namespaced && namespace !== undefined) path += `/namespaces/${encodeURIComponent(checkedNamespace(namespace))}`;
  path += `/${info.plural}`;
  if (name !== undefined) path += `/${encodeURIComponent(checkedName(info, name))}`;
  return path;
}

function checkedName(info: KindInfo, name: string): string {
  const problem = objectNameProblem(info, name);
  if (problem !== undefined) throw new CliError(`${JSON.stringify(name)} is not a valid ${info.singular} name (metadata.name): it ${problem}`);
  return name;
}

function checkedNamespace(namespace: string): string {
  const problem = namespaceNameProblem(namespace);
  if (problem !== undefined) throw new CliError(`${JSON.stringify(namespace)} is not a valid namespace name (metadata.namespace): it ${problem}`);
  return namespace;
}

/** Refuse a path with a `.` or `..` segment (plain or percent-encoded): URL resolution would send it elsewhere. */
export function assertNoDotSegments(path: string): void {
  const segments = (path.split("?", 1)[0] ?? "").split("/").map((segment) => segment.replace(/%2e/gi, "."));
  if (segments.some((segment) => segment === "." || segment === "..")) {
    throw new CliError(`refusing to send a request to ${JSON.stringify(path)}: a name cannot be "." or ".."`);
  }
}

/** The kind of a manifest object; throws a CliError naming an unknown apiVersion/kind. */
export function kindInfoOf(object: Pick<Resource, "apiVersion" | "kind">): KindInfo {
  const info = kindOf(object.apiVersion, object.kind);
  if (!info) {
    throw new CliError(
      `no kind "${object.kind}" is served in version "${object.apiVersion}"; run "holdfast api-resources" to see the kinds Holdfast serves`,
    );
  }
  return info;
}

/** Build an ApiError from an error response body (a Status, or anything else). */
export function apiErrorFrom(code: number, bodyText: string): ApiError {
  const fallbackReason = REASON_BY_CODE[code] ?? "Unknown";
  let body: Partial<StatusBody> | undefined;
  try {
    body = JSON.parse(bodyText) as Partial<StatusBody>;
  } catch {
    body = undefined;
  }
  if (body?.kind !== "Status") {
    const text = bodyText.trim();
    return new ApiError(code, fallbackReason, text === "" ? `the server answered HTTP ${code}` : text);
  }
  const causes = (body.details?.causes ?? []).map((cause) => ({ ...cause }));
  return new ApiError(body.code ?? code, body.reason ?? fallbackReason, body.message ?? `HTTP ${code}`, causes);
}

function networkDetail(error: unknown): string {
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause instanceof Error && "code" in cause && typeof cause.code === "string") {
    return cause.code === "ECONNREFUSED" ? "connection refused" : cause.code;
  }
  return error instanceof Error ? error.message : String(error);
}

/** API client bound to one server URL. */
/** The parts of a fetch request the client uses. */
interface FetchInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

/** How the client proves itself and whom it trusts. */
export interface ClientCredentials {
  /** Session or API token, sent as `Authorization: Bearer`. */
  token?: string;
  /** PEM of the only CA trusted for https URLs (the one `holdfast init` made). */
  ca?: string;
  /** Told each warning the server sends in `Warning` headers (unknown fields, fields not honoured). */
  onWarning?: (text: string) => void;
}

/** The patch kinds `holdfast patch --type` sends, as kubectl names them. */
export type PatchType = "merge" | "json" | "strategic";

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  merge: "application/merge-patch+json",
  json: "application/json-patch+json",
  strategic: "application/strategic-merge-patch+json",
};

export class ApiClient {
  readonly baseUrl: string;
  readonly #token: string | undefined;
  readonly #dispatcher: Agent | undefined;
  readonly #onWarning: ((text: string) => void) | undefined;

  constructor(baseUrl: string, credentials: ClientCredentials = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.#token = credentials.token;
    this.#onWarning = credentials.onWarning;
    this.#dispatcher = credentials.ca === undefined ? undefined : new Agent({ connect: { ca: credentials.ca } });
  }

  /** fetch with the trusted CA (when given) and the token. */
  #fetch(url: string, init: FetchInit): Promise<UndiciResponse> {
    // The User-Agent names the CLI as the field manager of what it writes (metadata.managedFields).
    const headers: Record<string, string> = { "user-agent": "holdfast", ...(init.headers ?? {}), ...(this.#token === undefined ? {} : { authorization: `Bearer ${this.#token}` }) };
    const options: Parameters<typeof undiciFetch>[1] = {
      method: init.method ?? "GET",
      headers,
      ...(init.body === undefined ? {} : { body: init.body }),
      ...(init.signal === undefined ? {} : { signal: init.signal }),
      ...(this.#dispatcher === undefined ? {} : { dispatcher: this.#dispatcher }),
    };
    return undiciFetch(url, options);
  }

  /** POST a JSON body to any path and return the JSON answer (auth endpoints, reviews). */
  async postJson(path: string, body: unknown): Promise<unknown> {
    return this.request("POST", path, body);
  }

  /** DELETE any path. */
  async deletePath(path: string): Promise<unknown> {
    return this.request("DELETE", path);
  }

  /** GET one object. */
  async get(info: KindInfo, namespace: string | undefined, name: string): Promise<Resource> {
    return (await this.request("GET", resourcePath(info, namespace, name))) as Resource;
  }

  /** GET one object, or undefined when it does not exist. */
  async find(info: KindInfo, namespace: string | undefined, name: string): Promise<Resource | undefined> {
    try {
      return await this.get(info, namespace, name);
    } catch (error) {
      if (error instanceof ApiError && error.code === 404) return undefined;
      throw error;
    }
  }

  /** List a kind in one namespace, or in all namespaces when `namespace` is undefined. */
  async list(info: KindInfo, namespace: string | undefined, options: ListOptions = {}): Promise<ResourceList> {
    const params = selectorParams(options);
    const query = params.size === 0 ? "" : `?${params.toString()}`;
    const list = (await this.request("GET", resourcePath(info, namespace) + query)) as Partial<ResourceList>;
    const items = (list.items ?? []).map((item) => ({ ...item, apiVersion: item.apiVersion || apiVersionOf(info), kind: item.kind || info.kind }));
    return { items, metadata: list.metadata ?? {} };
  }

  /** POST a new object. */
  async create(info: KindInfo, namespace: string | undefined, object: Resource): Promise<Resource> {
    return (await this.request("POST", resourcePath(info, namespace), object)) as Resource;
  }

  /** PUT an object; the server answers 409 when `metadata.resourceVersion` is stale. */
  async update(info: KindInfo, namespace: string | undefined, object: Resource): Promise<Resource> {
    return (await this.request("PUT", resourcePath(info, namespace, object.metadata.name), object)) as Resource;
  }

  /** PATCH an object with a JSON merge patch. */
  async patch(info: KindInfo, namespace: string | undefined, name: string, patch: unknown): Promise<Resource> {
    return (await this.request("PATCH", resourcePath(info, namespace, name), patch, "application/merge-patch+json")) as Resource;
  }

  /** PATCH an object with a patch of the given kind: JSON merge, JSON (RFC 6902) or strategic merge. */
  async patchAs(info: KindInfo, namespace: string | undefined, name: string, patch: unknown, type: PatchType): Promise<Resource> {
    return (await this.request("PATCH", resourcePath(info, namespace, name), patch, PATCH_CONTENT_TYPES[type])) as Resource;
  }

  /** DELETE an object. */
  async delete(info: KindInfo, namespace: string | undefined, name: string): Promise<unknown> {
    return this.request("DELETE", resourcePath(info, namespace, name));
  }

  /** Stream changes after `resourceVersion` until the server ends the stream or `signal` aborts. */
  async *watch(info: KindInfo, namespace: string | undefined, options: ListOptions = {}): AsyncGenerator<WatchEvent> {
    const params = selectorParams(options);
    params.set("watch", "true");
    if (options.resourceVersion !== undefined) params.set("resourceVersion", options.resourceVersion);
    const response = await this.send("GET", `${resourcePath(info, namespace)}?${params.toString()}`, undefined, undefined, options.signal);
    if (!response.ok) throw apiErrorFrom(response.status, await response.text());
    if (!response.body) return;
    yield* parseNdjson(response.body);
  }

  /** GET any path as a stream of text (an instance's log, followed); ends when the server ends it or `signal` aborts. */
  async *streamText(path: string, signal?: AbortSignal): AsyncGenerator<string> {
    const response = await this.send("GET", path, undefined, undefined, signal);
    if (!response.ok) throw apiErrorFrom(response.status, await response.text());
    if (!response.body) return;
    const decoder = new TextDecoder();
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) yield decoder.decode(chunk, { stream: true });
  }

  /** GET any path (e.g. `/version`) as JSON. */
  async getJson(path: string): Promise<unknown> {
    return this.request("GET", path);
  }

  /** GET any path as text (a Prometheus exposition or rule file). */
  async getText(path: string): Promise<string> {
    const response = await this.send("GET", path, undefined);
    const text = await response.text();
    if (!response.ok) throw apiErrorFrom(response.status, text);
    return text;
  }

  /** Does the server answer `/healthz`? Never throws. */
  async healthy(timeoutMs = 2000): Promise<boolean> {
    try {
      const response = await this.#fetch(`${this.baseUrl}/healthz`, { signal: AbortSignal.timeout(timeoutMs) });
      await response.body?.cancel();
      return response.ok;
    } catch {
      return false;
    }
  }

  private async request(method: string, path: string, body?: unknown, contentType = "application/json"): Promise<unknown> {
    const response = await this.send(method, path, body, contentType);
    for (const warning of parseWarningHeader(response.headers.get("warning"))) this.#onWarning?.(warning);
    const text = await response.text();
    if (!response.ok) throw apiErrorFrom(response.status, text);
    if (text === "") return {};
    return JSON.parse(text) as unknown;
  }

  private async send(method: string, path: string, body: unknown, contentType?: string, signal?: AbortSignal): Promise<UndiciResponse> {
    assertNoDotSegments(path);
    const headers: Record<string, string> = { accept: "application/json" };
    if (body !== undefined) headers["content-type"] = contentType ?? "application/json";
    try {
      return await this.#fetch(this.baseUrl + path, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        ...(signal === undefined ? {} : { signal }),
      });
    } catch (error) {
      if (signal?.aborted === true) throw error;
      throw new ServerUnreachableError(this.baseUrl, networkDetail(error));
    }
  }
}

function selectorParams(options: ListOptions): URLSearchParams {
  const params = new URLSearchParams();
  if (options.labelSelector !== undefined) params.set("labelSelector", options.labelSelector);
  if (options.fieldSelector !== undefined) params.set("fieldSelector", options.fieldSelector);
  return params;
}

/** Split a byte stream of newline-delimited JSON into watch events. */
export async function* parseNdjson(stream: AsyncIterable<Uint8Array>): AsyncGenerator<WatchEvent> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of stream) {
    buffer += decoder.decode(chunk, { stream: true });
    let newline = buffer.indexOf("\n");
    while (newline !== -1) {
      const line = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      if (line !== "") yield JSON.parse(line) as WatchEvent;
      newline = buffer.indexOf("\n");
    }
  }
  const rest = buffer.trim();
  if (rest !== "") yield JSON.parse(rest) as WatchEvent;
}
