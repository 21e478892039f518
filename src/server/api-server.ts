/**
 * The API server: HTTPS only (TLS 1.2+ with AEAD suites, timeouts in transport.ts), every request through the security pipeline, then to the resource
 * handlers, the security endpoints or discovery.
 */
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { isConsolePath, serveConsole, type ConsoleAssets } from "../console/index.ts";
import type { Store } from "../store/index.ts";
import { consoleApiEndpoint } from "./console-api.ts";
import type { Logger } from "../util/index.ts";
import type { Access } from "./access/index.ts";
import { FrozenNamespaces, isMutation, resourceAttributes } from "./access/index.ts";
import { incidentEndpoint } from "./incident-api.ts";
import { instanceLogEndpoint, type InstanceLogApi } from "./instance-log-api.ts";
import { createAdmission, defaultAdmitters, type Admission, type AdmitterRegistry } from "./admission/index.ts";
import { dataProtectionEndpoint, type DataProtectionApi } from "./data-protection-api.ts";
import { apiGroup, apiGroupList, apiResourceList, apiVersions, OPENAPI_V2_MEDIA_TYPE, openApiV2Document, versionInfo, type BuildInfo } from "./discovery.ts";
import type { Endpoint, Reply } from "./endpoint.ts";
import type { EngineLookup } from "./engine-lookup.ts";
import { NotFoundError } from "../errors/index.ts";
import { MethodNotAllowedError } from "./http-errors.ts";
import { monitoringEndpoint, type MonitoringApi } from "./monitoring-api.ts";
import { joinTokensEndpoint, publicNodeJoinEndpoint, type NodeJoinApi } from "./node-join-api.ts";
import { errorReply, handleRequest, type PipelineContext, type RequestObserver } from "./pipeline.ts";
import { checkNoDryRun, checkQuery, operationOf } from "./query-params.ts";
import { isDryRun, serveResource } from "./resource-handlers.ts";
import { COMMON_HEADERS, sendJson } from "./respond.ts";
import { assertPlainRequestTarget, parseRoute, pathSegments, type ResourceRoute, type Route } from "./route.ts";
import { publicSecurityEndpoint, securityEndpoint, type KeyOperations, type SecurityServices } from "./security-api/index.ts";
import { transportOptions } from "./transport.ts";
import { createOpenApi, type OpenApi } from "./openapi.ts";
import type { OpenWatch } from "./watch-stream.ts";

/** What the API server is built from. */
export interface ApiServerOptions {
  store: Store;
  engines: EngineLookup;
  logger: Logger;
  /** The package version, reported by `/version`. */
  version: string;
  /** Where the running code came from, for `/version` (unknown parts are reported empty, as Kubernetes does). */
  build?: BuildInfo;
  /** Authentication, authorization and the audit log. */
  access: Access;
  /** Where the audit log lives (served read-only at auditevents). */
  auditDirectory: string;
  /** Key rotation and re-encryption. */
  keys: KeyOperations;
  /** The serving certificate and key (PEM). */
  tls: { key: string; cert: string };
  /** Admission rules by kind; defaults to the built-in ones. */
  admitters?: AdmitterRegistry;
  /** Backup verification (absent: the verify endpoint is not served). */
  dataProtection?: DataProtectionApi;
  /** Joining control-plane nodes (absent: the join endpoints refuse, as on the embedded store). */
  nodeJoin?: NodeJoinApi;
  /** Instances' own logs, through the node agent of each one's node (absent: not served). */
  instanceLogs?: InstanceLogApi;
  /** What a Prometheus reads (/metrics, /monitoring/targets, /monitoring/rules); absent, those paths are not served. */
  monitoring?: MonitoringApi;
  /** Counts every answered request (absent: metrics are off). */
  requestMetrics?: RequestObserver;
  /** The web console's files (absent: /console/ is not served). */
  console?: ConsoleAssets;
  /** Milliseconds a client has to send its headers, TLS handshake included (default 15 s). */
  headersTimeoutMs?: number;
  /** Milliseconds a client has to send a whole request (default 30 s). */
  requestTimeoutMs?: number;
}

/** A running (or ready to run) API server. */
export interface ApiServer {
  listen(host: string, port: number): Promise<{ url: string }>;
  /** Stop accepting connections, end open watches and close idle connections. */
  close(): Promise<void>;
}

/** Build the API server; nothing listens until `listen`. */
export function createApiServer(options: ApiServerOptions): ApiServer {
  const registry = options.admitters ?? defaultAdmitters();
  const admission = createAdmission({ store: options.store, engines: options.engines, authorizer: options.access.authorizer }, registry);
  const services: SecurityServices = { auth: options.access.auth, authorizer: options.access.authorizer, auditDirectory: options.auditDirectory, keys: options.keys };
  const watches = new Set<OpenWatch>();
  const frozen = new FrozenNamespaces(options.store);
  const openApi = createOpenApi({ schemaOf: (kind) => registry.get(kind.kind)?.schema, writable: (kind) => registry.get(kind.kind)?.readOnly === undefined }, options.version);
  const pipeline: PipelineContext = {
    access: options.access,
    logger: options.logger,
    watches,
    frozen,
    resolve: (method, url, target) => resolveEndpoint({ options, admission, registry, services, openApi }, method, url, target),
    resolvePublic: (_method, url) => publicSecurityEndpoint(services, url.pathname) ?? publicNodeJoinEndpoint(options.nodeJoin, url.pathname),
    metrics: options.requestMetrics,
  };
  const server = createServer(
    transportOptions({ tls: options.tls, headersTimeoutMs: options.headersTimeoutMs, requestTimeoutMs: options.requestTimeoutMs }),
    (request, response) => void handle(pipeline, request, response, options.console),
  );
  return {
    listen: (host, port) => listen(server, host, port),
    close: async () => {
      frozen.close();
      await close(server, watches);
    },
  };
}

async function handle(pipeline: PipelineContext, request: IncomingMessage, response: ServerResponse, console: ConsoleAssets | undefined): Promise<void> {
  const started = performance.now();
  const url = new URL(request.url ?? "/", "https://localhost");
  response.on("close", () => {
    pipeline.logger.debug({ method: request.method, path: url.pathname, status: response.statusCode, ms: Math.round(performance.now() - started) }, "request");
  });
  try {
    if (url.pathname === "/healthz") {
      serveHealth(request, response);
      return;
    }
    if (console !== undefined && isConsolePath(url.pathname)) {
      serveConsole(console, request, response, url.pathname);
      return;
    }
    await handleRequest(pipeline, request, response, url);
  } catch (error) {
    // The pipeline answers every failure itself; this is the last resort for a bug in it.
    if (response.headersSent) {
      response.destroy();
      return;
    }
    const reply = errorReply(pipeline.logger, error);
    sendJson(response, reply.status, reply.body);
  }
}

/** Health needs no credentials and tells nothing but "ok". */
function serveHealth(request: IncomingMessage, response: ServerResponse): void {
  if (request.method !== "GET" && request.method !== "HEAD") {
    sendJson(response, 405, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: "/healthz is read-only (GET)", reason: "MethodNotAllowed", code: 405 });
    return;
  }
  response.writeHead(200, { ...COMMON_HEADERS, "Content-Type": "text/plain; charset=utf-8" });
  response.end("ok");
}

interface Served {
  options: ApiServerOptions;
  admission: Admission;
  registry: AdmitterRegistry;
  services: SecurityServices;
  openApi: OpenApi;
}

function resolveEndpoint(served: Served, method: string, url: URL, target: string): Endpoint {
  assertPlainRequestTarget(target);
  const monitoring = monitoringEndpoint(served.options.monitoring, method, url.pathname);
  if (monitoring) {
    checkQuery("discovery", url.searchParams);
    return monitoring;
  }
  const action = actionEndpoint(served, method, url.pathname);
  if (action) {
    // These endpoints act at once (a token is minted, a backup read): a dry run they cannot honour is refused.
    checkNoDryRun(url.searchParams);
    return action;
  }
  const route = parseRoute(url.pathname);
  if (route.type === "resource") return resourceEndpoint(served, route, method, url.searchParams);
  if (method !== "GET") throw new MethodNotAllowedError(`${method} is not allowed on ${url.pathname}; it is read-only (GET)`);
  if (route.type === "openapiV2" || route.type === "openapiV3Index" || route.type === "openapiV3") {
    checkQuery("openapi", url.searchParams);
    return openApiEndpoint(served, route);
  }
  checkQuery("discovery", url.searchParams);
  return discoveryEndpoint(served, route);
}

/** The endpoints that act rather than store (security, backup verification, joins, incidents, the console's, logs). */
function actionEndpoint(served: Served, method: string, pathname: string): Endpoint | undefined {
  const segments = pathSegments(pathname);
  const incidents = { store: served.options.store, auth: served.options.access.auth, authorizer: served.options.access.authorizer };
  return (
    securityEndpoint(served.services, method, segments) ??
    dataProtectionEndpoint(served.options.dataProtection, method, segments) ??
    joinTokensEndpoint(served.options.nodeJoin, method, segments) ??
    incidentEndpoint(incidents, method, segments) ??
    consoleApiEndpoint(served.options.engines, method, pathname) ??
    instanceLogEndpoint(served.options.instanceLogs, method, segments)
  );
}

function resourceEndpoint(served: Served, route: ResourceRoute, method: string, query: URLSearchParams): Endpoint {
  const attributes = resourceAttributes(route, method, query);
  checkQuery(operationOf(attributes.verb), query);
  const deps = { store: served.options.store, admission: served.admission, authorizer: served.options.access.authorizer };
  return {
    permission: async (exchange) => ({ verb: attributes.verb, attributes, dryRun: isMutation(attributes.verb) && (await isDryRun(exchange)) }),
    run: (exchange) => serveResource(deps, route, exchange),
  };
}

type DiscoveryRoute = Exclude<Route, { type: "resource" | "openapiV2" | "openapiV3Index" | "openapiV3" }>;
type OpenApiRoute = Extract<Route, { type: "openapiV2" | "openapiV3Index" | "openapiV3" }>;

// Discovery and OpenAPI are open to anyone signed in, as Kubernetes' system:discovery role grants them.
const DISCOVERY_PERMISSION = { verb: "get", allowedBecause: "API discovery is open to anyone signed in" };

function discoveryEndpoint(served: Served, route: DiscoveryRoute): Endpoint {
  const reply: Reply = { status: 200, body: discoveryBody(served, route) };
  return { permission: () => DISCOVERY_PERMISSION, run: () => Promise.resolve(reply) };
}

/**
 * OpenAPI: v3 as JSON; v2 as JSON when the client asks for JSON, else the protobuf document kubectl asks for (it
 * publishes no schemas: kubectl reads the v3 documents, and admission validates every object in any case).
 */
function openApiEndpoint(served: Served, route: OpenApiRoute): Endpoint {
  return {
    permission: () => DISCOVERY_PERMISSION,
    run: (exchange) => {
      if (route.type === "openapiV3Index") return Promise.resolve({ status: 200, body: served.openApi.v3Index() });
      if (route.type === "openapiV3") {
        const document = served.openApi.v3(route.path);
        if (document === undefined) throw new NotFoundError(`no OpenAPI v3 document at /openapi/v3/${route.path}; GET /openapi/v3 lists them`);
        return Promise.resolve({ status: 200, body: document });
      }
      const accept = exchange.request.headers.accept ?? "";
      if (accept.includes("json") && !accept.includes("protobuf")) return Promise.resolve({ status: 200, body: served.openApi.v2() });
      return Promise.resolve({ status: 200, body: undefined, bytes: openApiV2Document(served.options.version), headers: { "Content-Type": OPENAPI_V2_MEDIA_TYPE } });
    },
  };
}

function discoveryBody(served: Served, route: DiscoveryRoute): unknown {
  switch (route.type) {
    case "healthz":
      return "ok";
    case "version":
      return versionInfo(served.options.version, served.options.build);
    case "apiVersions":
      return apiVersions();
    case "groupList":
      return apiGroupList();
    case "group":
      return apiGroup(route.group);
    case "resourceList":
      return apiResourceList(route.group, route.version, (kind) => served.registry.get(kind.kind)?.readOnly === undefined);
  }
}

function listen(server: Server, host: string, port: number): Promise<{ url: string }> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const address = server.address() as AddressInfo;
      const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
      resolve({ url: `https://${shownHost}:${address.port}` });
    });
  });
}

function close(server: Server, watches: Set<OpenWatch>): Promise<void> {
  for (const watch of watches) watch.end();
  watches.clear();
  return new Promise((resolve, reject) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeIdleConnections();
  });
}
