/** The HTTP API server: routes Kubernetes-style paths to discovery and resource handlers over node:http. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Store } from "../store/index.ts";
import type { Logger } from "../util/index.ts";
import { createAdmission, defaultAdmitters, type Admission, type AdmitterRegistry } from "./admission/index.ts";
import { apiGroup, apiGroupList, apiResourceList, apiVersions } from "./discovery.ts";
import type { EngineLookup } from "./engine-lookup.ts";
import { errorToStatus } from "./error-status.ts";
import { MethodNotAllowedError } from "./http-errors.ts";
import { serveResource } from "./resource-handlers.ts";
import { COMMON_HEADERS, sendJson } from "./respond.ts";
import { parseRoute, type Route } from "./route.ts";
import type { OpenWatch } from "./watch-stream.ts";

/** What the API server is built from. */
export interface ApiServerOptions {
  store: Store;
  engines: EngineLookup;
  logger: Logger;
  /** The package version, reported by `/version`. */
  version: string;
  /** Admission rules by kind; defaults to the built-in ones. */
  admitters?: AdmitterRegistry;
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
  const admission = createAdmission({ store: options.store, engines: options.engines }, options.admitters ?? defaultAdmitters());
  const watches = new Set<OpenWatch>();
  const context: RequestContext = { options, admission, watches };
  const server = createServer({ requestTimeout: options.requestTimeoutMs ?? 30_000, headersTimeout: 15_000 }, (request, response) => {
    void handle(context, request, response);
  });
  return {
    listen: (host, port) => listen(server, host, port),
    close: () => close(server, watches),
  };
}

interface RequestContext {
  options: ApiServerOptions;
  admission: Admission;
  watches: Set<OpenWatch>;
}

async function handle(context: RequestContext, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const started = performance.now();
  const url = new URL(request.url ?? "/", "http://localhost");
  response.on("close", () => {
    context.options.logger.debug({ method: request.method, path: url.pathname, status: response.statusCode, ms: Math.round(performance.now() - started) }, "request");
  });
  try {
    const watch = await dispatch(context, parseRoute(url.pathname), request, response, url.searchParams);
    if (watch) trackWatch(context.watches, watch, response);
  } catch (error) {
    const { httpStatus, body } = errorToStatus(error, context.options.logger);
    if (response.headersSent) {
      response.destroy();
      return;
    }
    // After a refused body the rest of it may still be in flight; closing the connection drops it.
    if (!request.complete) response.setHeader("Connection", "close");
    sendJson(response, httpStatus, body);
  }
}

function trackWatch(watches: Set<OpenWatch>, watch: OpenWatch, response: ServerResponse): void {
  watches.add(watch);
  response.on("close", () => watches.delete(watch));
}

async function dispatch(context: RequestContext, route: Route, request: IncomingMessage, response: ServerResponse, query: URLSearchParams): Promise<OpenWatch | undefined> {
  if (route.type === "resource") {
    const deps = { store: context.options.store, admission: context.admission };
    return serveResource(deps, route, request, response, query);
  }
  if (request.method !== "GET") throw new MethodNotAllowedError(`${request.method ?? ""} is not allowed on ${request.url ?? ""}; it is read-only (GET)`);
  if (route.type === "healthz") {
    response.writeHead(200, { ...COMMON_HEADERS, "Content-Type": "text/plain; charset=utf-8" });
    response.end("ok");
    return undefined;
  }
  sendJson(response, 200, readOnlyBody(context, route));
  return undefined;
}

function readOnlyBody(context: RequestContext, route: Exclude<Route, { type: "resource" | "healthz" }>): unknown {
  switch (route.type) {
    case "version":
      return { gitVersion: context.options.version, platform: "local" };
    case "apiVersions":
      return apiVersions();
    case "groupList":
      return apiGroupList();
    case "group":
      return apiGroup(route.group);
    case "resourceList": {
      const registry = context.options.admitters ?? defaultAdmitters();
      return apiResourceList(route.group, route.version, (kind) => registry.get(kind.kind)?.readOnly === undefined);
    }
  }
}

function listen(server: Server, host: string, port: number): Promise<{ url: string }> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const address = server.address() as AddressInfo;
      const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
      resolve({ url: `http://${shownHost}:${address.port}` });
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
