/**
 * What a Prometheus reads, as non-resource URLs behind RBAC (`nonResourceURLs`, verb get, held by the built-in
 * `monitoring` role): `/metrics` (the text exposition), `/monitoring/targets` (every scrape target, in the format of
 * Prometheus' http_sd_configs) and `/monitoring/rules` (the PrometheusRule objects as one rule file).
 */
import { NotFoundError } from "../errors/index.ts";
import { MONITORING_URLS } from "../security/index.ts";
import type { Endpoint, Reply } from "./endpoint.ts";
import { MethodNotAllowedError } from "./http-errors.ts";

/** What the API server serves to a Prometheus. */
export interface MonitoringApi {
  /** The exposition; absent when the server runs with --disable-metrics. */
  metrics?: () => Promise<{ contentType: string; text: string }>;
  /** Target groups for http_sd_configs. */
  targets(): Promise<unknown[]>;
  /** A Prometheus rule file (YAML). */
  rules(): Promise<string>;
}

const PATHS: ReadonlySet<string> = new Set(MONITORING_URLS);

/** The endpoint of a monitoring path, or undefined when the path is not one. */
export function monitoringEndpoint(api: MonitoringApi | undefined, method: string, pathname: string): Endpoint | undefined {
  if (api === undefined || !PATHS.has(pathname)) return undefined;
  if (method !== "GET") throw new MethodNotAllowedError(`${method} is not allowed on ${pathname}; it is read-only (GET)`);
  return {
    permission: () => ({ verb: "get", attributes: { verb: "get", apiGroup: "", resource: "", path: pathname } }),
    run: () => serve(api, pathname),
  };
}

async function serve(api: MonitoringApi, pathname: string): Promise<Reply> {
  if (pathname === "/monitoring/targets") return { status: 200, body: await api.targets() };
  if (pathname === "/monitoring/rules") return text(await api.rules(), "application/yaml; charset=utf-8");
  if (api.metrics === undefined) throw new NotFoundError("metrics are turned off on this server (it runs with --disable-metrics)");
  const { contentType, text: body } = await api.metrics();
  return text(body, contentType);
}

function text(body: string, contentType: string): Reply {
  return { status: 200, body: undefined, bytes: Buffer.from(body, "utf8"), headers: { "Content-Type": contentType } };
}
