/**
 * `GET /apis/holdfast.io/v1alpha1/namespaces/NS/instances/NAME/log`: a database's own log, read by the node agent of
 * the instance's node (`?tailLines=N&sinceSeconds=S&follow=true&container=database|exporter`). Reading it is RBAC
 * `get` on `instances/log`, audited like every request.
 */
import type { ServerResponse } from "node:http";
import { z } from "zod";
import { InputError } from "../errors/index.ts";
import type { Endpoint, Outcome } from "./endpoint.ts";
import { MethodNotAllowedError } from "./http-errors.ts";
import { COMMON_HEADERS } from "./respond.ts";
import type { OpenWatch } from "./watch-stream.ts";

/** Which log, and which part of it. */
export interface LogRequest {
  tailLines?: number | undefined;
  sinceSeconds?: number | undefined;
  follow: boolean;
  /** `database` (default) or `exporter`. */
  container?: string | undefined;
}

/** An opened log: the text selected now, and (when following) how to stream what is appended. */
export interface LogSource {
  text: string;
  follow?(write: (chunk: string) => void, end: () => void): { stop(): void };
}

/** Opens instance logs; the caller's bearer is passed on when another node's agent must read it. */
export interface InstanceLogApi {
  open(namespace: string, name: string, request: LogRequest, bearer: string | undefined): Promise<LogSource>;
}

const querySchema = z.strictObject({
  tailLines: z.coerce.number().int().min(0).max(1_000_000).optional(),
  sinceSeconds: z.coerce.number().int().min(1).optional(),
  follow: z.enum(["true", "false"]).optional(),
  container: z.string().max(63).optional(),
});

const TEXT_HEADERS = { ...COMMON_HEADERS, "Content-Type": "text/plain; charset=utf-8" };

/** The log request of a query string; InputError names a bad parameter. */
export function logRequestOf(query: URLSearchParams): LogRequest {
  const parsed = querySchema.safeParse(Object.fromEntries(query));
  if (!parsed.success) {
    const causes = parsed.error.issues.map((issue) => ({ field: issue.path.join(".") || "query", message: issue.message }));
    throw new InputError(`invalid log query: ${causes.map((c) => `${c.field}: ${c.message}`).join(", ")}; parameters: tailLines, sinceSeconds, follow, container`, { causes });
  }
  const { tailLines, sinceSeconds, follow, container } = parsed.data;
  return { tailLines, sinceSeconds, follow: follow === "true", container };
}

/** The endpoint for an instance's log, or undefined when the path is not one. */
export function instanceLogEndpoint(api: InstanceLogApi | undefined, method: string, segments: readonly string[]): Endpoint | undefined {
  const [apis, group, version, namespaces, namespace, plural, name, log, ...extra] = segments;
  const shape = [apis, group, version, namespaces, plural, log].join("/");
  if (shape !== "apis/holdfast.io/v1alpha1/namespaces/instances/log" || namespace === undefined || name === undefined || extra.length > 0 || api === undefined) return undefined;
  if (method !== "GET") throw new MethodNotAllowedError(`${method} is not allowed on instances/${name}/log; use GET`);
  return {
    permission: () => ({ verb: "get", attributes: { verb: "get", apiGroup: "holdfast.io", resource: "instances", subresource: "log", namespace, name } }),
    run: async (exchange) => {
      const request = logRequestOf(exchange.query);
      const bearer = /^Bearer\s+(\S+)$/i.exec(exchange.request.headers.authorization ?? "")?.[1];
      const source = await api.open(namespace, name, request, bearer);
      return request.follow && source.follow !== undefined ? streamed(source, source.follow.bind(source)) : { status: 200, body: undefined, bytes: Buffer.from(source.text), headers: TEXT_HEADERS };
    },
  };
}

function streamed(source: LogSource, follow: NonNullable<LogSource["follow"]>): Outcome {
  return {
    status: 200,
    start: (response: ServerResponse): Promise<OpenWatch> => {
      response.writeHead(200, TEXT_HEADERS);
      response.write(source.text);
      const end = (): void => {
        following.stop();
        response.end();
      };
      const following = follow((chunk) => response.write(chunk), end);
      response.on("close", () => following.stop());
      return Promise.resolve({ end });
    },
  };
}
