/**
 * Metrics of the API server's request path: requests by verb, resource and code with their latency, authentication
 * outcomes and authorization denials. Labels come from the request's audit draft, whose resource is always a kind
 * Holdfast serves (the router refuses any other path), so label values are bounded: no object names, no users.
 */
import { Counter, Histogram, type Registry } from "prom-client";

/** What the pipeline knows of one answered request. */
export interface RequestSample {
  verb: string;
  /** API group and resource (`clusters`, `clusters/status`); both empty for a non-resource URL. */
  group: string;
  resource: string;
  /** A non-resource URL (`/metrics`), one of a fixed set; empty for a resource request. */
  path: string;
  code: number;
  seconds: number;
  authentication?: { method: string; outcome: "success" | "failure" };
  denied: boolean;
}

/** Request latency buckets (seconds): fine below 10 ms, where the API's goal lies. */
export const REQUEST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The request-path metric families. */
export class RequestMetrics {
  readonly #requests: Counter<"verb" | "group" | "resource" | "path" | "code">;
  readonly #duration: Histogram<"verb" | "group" | "resource" | "path">;
  readonly #authentications: Counter<"method" | "outcome">;
  readonly #denials: Counter<"verb" | "group" | "resource" | "path">;

  constructor(registry: Registry) {
    const registers = [registry];
    this.#requests = new Counter({ name: "holdfast_apiserver_requests_total", help: "API requests answered, by verb, API group, resource (or non-resource path) and HTTP code", labelNames: ["verb", "group", "resource", "path", "code"], registers });
    this.#duration = new Histogram({ name: "holdfast_apiserver_request_duration_seconds", help: "Time from a request's arrival to its answer, audit record included", labelNames: ["verb", "group", "resource", "path"], buckets: REQUEST_BUCKETS, registers });
    this.#authentications = new Counter({ name: "holdfast_authentication_attempts_total", help: "Authentication attempts by method (bearer, password, totp, …) and outcome", labelNames: ["method", "outcome"], registers });
    this.#denials = new Counter({ name: "holdfast_authorization_denials_total", help: "Requests RBAC refused, by verb, API group and resource (or non-resource path)", labelNames: ["verb", "group", "resource", "path"], registers });
  }

  /** Count one answered request. */
  observe(sample: RequestSample): void {
    const where = { verb: sample.verb, group: sample.group, resource: sample.resource, path: sample.path };
    this.#requests.inc({ ...where, code: String(sample.code) });
    this.#duration.observe(where, sample.seconds);
    if (sample.authentication) this.#authentications.inc(sample.authentication);
    if (sample.denied) this.#denials.inc(where);
  }
}
