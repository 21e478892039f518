/** What a request handler returns, and what it is handed: the pipeline sends the answer after auditing it. */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Identity, RequestAttributes } from "../security/index.ts";
import { readJsonBody } from "./request-body.ts";
import type { OpenWatch } from "./watch-stream.ts";

/** A complete answer: status, JSON body, extra headers. */
export interface Reply {
  status: number;
  body: unknown;
  /** A body that is not JSON (the OpenAPI document), sent as is with the Content-Type in `headers`. */
  bytes?: Uint8Array;
  headers?: Record<string, string>;
}

/** A streamed answer (watch): started only after its audit record is written. */
export interface StreamReply {
  status: number;
  start(response: ServerResponse): Promise<OpenWatch>;
}

/** What a handler produces. */
export type Outcome = Reply | StreamReply;

/** Is this outcome a stream? */
export function isStream(outcome: Outcome): outcome is StreamReply {
  return "start" in outcome;
}

/** One authenticated request, as handlers see it. */
export interface Exchange {
  request: IncomingMessage;
  query: URLSearchParams;
  identity: Identity;
  /** The JSON body, read once (size-limited); later calls return the same value. */
  body(): Promise<unknown>;
  /** The body if `body()` read it (the audit log records request bodies of some resources), else undefined. */
  readonly parsedBody: unknown;
  /** Who else the request acted for (an API token made for another user), recorded as an audit annotation. */
  actingFor?: string;
}

/** An exchange over a request whose body is read lazily, at most once. */
export function createExchange(request: IncomingMessage, query: URLSearchParams, identity: Identity): Exchange {
  let read: Promise<unknown> | undefined;
  let value: unknown;
  return {
    request,
    query,
    identity,
    body() {
      read ??= readJsonBody(request).then((parsed) => {
        value = parsed;
        return parsed;
      });
      return read;
    },
    get parsedBody() {
      return value;
    },
  };
}

/** What a request needs to be allowed: an RBAC check of `attributes`, or nothing beyond signing in. */
export interface Permission {
  /** The audit verb (the RBAC verb when `attributes` is set). */
  verb: string;
  /** Checked against RBAC and recorded as the audit objectRef. */
  attributes?: RequestAttributes;
  /** A dry run (`dryRun=All`): allowed as the write itself, but recorded as a request that changed nothing. */
  dryRun?: boolean;
  /** Set when no RBAC check applies (the caller acts on their own account, or reads discovery): why, for the audit record. */
  allowedBecause?: string;
}

/** A served operation: what it needs to be allowed, and its handler. */
export interface Endpoint {
  /** May read the query or body (e.g. whose token is created). */
  permission(exchange: Exchange): Promise<Permission> | Permission;
  run(exchange: Exchange): Promise<Outcome>;
}
