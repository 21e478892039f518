/**
 * A client for etcd v3 over its JSON gateway (`/v3/...` on every member's client port), on undici pools of
 * keep-alive connections: concurrent requests run side by side, a member that refuses connections is skipped for the
 * next one, every request has a deadline, a member that stops answering (cut off by the network) has its open work
 * moved to another member within seconds (member-health.ts), and an etcd that cannot answer is an UnavailableError,
 * never a hang.
 */
import { readFileSync } from "node:fs";
import type { Readable } from "node:stream";
import { Pool } from "undici";
import type { z } from "zod";
import { errorMessage, GoneError, InternalError, UnavailableError } from "../../errors/index.ts";
import { displayEndpoint, originOf, type EtcdConnection } from "./endpoints.ts";
import { MemberHealth, MemberUnreachableError, type ProbeTiming } from "./member-health.ts";
import {
  b64,
  deleteResponseSchema,
  errorBodySchema,
  leaseGrantResponseSchema,
  leaseKeepAliveResponseSchema,
  prefixEndB64,
  putResponseSchema,
  rangeResponseSchema,
  statusResponseSchema,
  toKeyValue,
  txnResponseSchema,
  type KeyValue,
} from "./wire.ts";

/** Tuning of the client. */
export interface EtcdClientOptions extends EtcdConnection {
  /** Deadline of one request (default 5000 ms): past it, the store does not answer. */
  requestTimeoutMs?: number;
  /** Keep-alive connections per member for requests (default 16); watches have their own. */
  connections?: number;
  /** How often a member with open work is asked whether it answers, and how long it may take (member-health.ts). */
  probe?: ProbeTiming;
}

/** Which keys: one key, a prefix, or [key, end). */
export interface KeyRange {
  key: string;
  /** Every key that starts with `key`. */
  prefix?: boolean;
  /** Up to (not including) this key. */
  end?: string;
  /** Up to the end of the keys that start with this prefix (paging through a prefix from `key`). */
  endOfPrefix?: string;
}

/** What a range asks for. */
export interface RangeOptions extends KeyRange {
  limit?: number;
  /** Read as of this revision; compacted → GoneError. */
  revision?: number;
  countOnly?: boolean;
  keysOnly?: boolean;
}

/** What a range found. */
export interface RangeResult {
  kvs: KeyValue[];
  count: number;
  more: boolean;
  /** The store's revision when the range was served. */
  revision: number;
}

/** A txn guard on one key. */
export interface Compare {
  key: string;
  target: "VERSION" | "CREATE" | "MOD" | "VALUE" | "LEASE";
  result: "EQUAL" | "NOT_EQUAL" | "GREATER" | "LESS";
  /** A revision or version (numbers), a value (text) or a lease id (string). */
  value: number | string;
}

/** One operation of a txn. */
export type TxnOp =
  | { put: { key: string; value: string; lease?: string } }
  | { range: KeyRange }
  | { deleteRange: KeyRange & { prevKv?: boolean } };

/** The answer to one txn operation. */
export interface TxnOpResult {
  kvs?: KeyValue[];
  deleted?: number;
  prevKvs?: KeyValue[];
}

/** What a txn did. */
export interface TxnResult {
  succeeded: boolean;
  revision: number;
  responses: TxnOpResult[];
}

/** A member's status. */
export interface MemberStatus {
  version: string;
  dbSize: number;
  leader: string;
  memberId: string;
  revision: number;
  raftTerm: number;
}

/** An error etcd answered with (not a connection problem), with its gRPC code. */
export class EtcdResponseError extends InternalError {
  readonly grpcCode: number;

  constructor(message: string, grpcCode: number) {
    super(`etcd refused the request: ${message}`);
    this.grpcCode = grpcCode;
  }
}

const GRPC_NOT_FOUND = 5;
const GRPC_OUT_OF_RANGE = 11;
const GRPC_UNAVAILABLE = 14;
const GRPC_DEADLINE_EXCEEDED = 4;
const DEFAULT_TIMEOUT_MS = 5000;
const NEVER = new AbortController().signal;
const CONNECT_ERRORS = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "UND_ERR_CONNECT_TIMEOUT"]);

/** Why one member did not answer; `retryable` says whether the next member may be asked. */
class MemberFailure extends Error {
  readonly retryable: boolean;
  readonly quorum: boolean;

  constructor(message: string, options: { retryable: boolean; quorum?: boolean; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.retryable = options.retryable;
    this.quorum = options.quorum === true;
  }
}

interface CallOptions {
  /** Safe to send again to another member after a timeout (reads, keep-alives, status). */
  idempotent?: boolean;
}

/** The etcd v3 client. */
export class EtcdClient {
  /** The members as `host:port`, for messages. */
  readonly endpoints: readonly string[];
  private readonly pools: Pool[];
  private readonly streamPools: Pool[];
  /** One connection per member for health probes, so a probe never queues behind slow requests. */
  private readonly probePools: Pool[];
  private readonly health: MemberHealth;
  private readonly timeoutMs: number;
  private preferred = 0;
  private closed = false;

  constructor(options: EtcdClientOptions) {
    if (options.endpoints.length === 0) throw new InternalError("an etcd client needs at least one endpoint");
    const tls = tlsOptions(options);
    const origins = options.endpoints.map((endpoint) => originOf(endpoint, tls !== undefined));
    this.endpoints = options.endpoints.map(displayEndpoint);
    this.timeoutMs = options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    const connect = { ...(tls ?? {}), timeout: this.timeoutMs };
    this.pools = origins.map((origin) => new Pool(origin, { connections: options.connections ?? 16, pipelining: 1, connect }));
    this.streamPools = origins.map((origin) => new Pool(origin, { connections: null, pipelining: 1, connect, bodyTimeout: 0, headersTimeout: this.timeoutMs }));
    this.probePools = origins.map((origin) => new Pool(origin, { connections: 1, pipelining: 1, connect }));
    const unreachable = (index: number): void => {
      if (this.preferred === index) this.preferred = (index + 1) % this.pools.length;
    };
    this.health = new MemberHealth((index, signal) => this.probe(index, signal), unreachable, options.probe);
  }

  /** Read keys. */
  async range(options: RangeOptions): Promise<RangeResult> {
    const body = {
      ...rangeBody(options),
      ...(options.limit === undefined ? {} : { limit: String(options.limit) }),
      ...(options.revision === undefined ? {} : { revision: String(options.revision) }),
      ...(options.countOnly === true ? { count_only: true } : {}),
      ...(options.keysOnly === true ? { keys_only: true } : {}),
    };
    const raw = await this.call("/kv/range", body, rangeResponseSchema, { idempotent: true });
    return { kvs: (raw.kvs ?? []).map(toKeyValue), count: Number(raw.count), more: raw.more === true, revision: Number(raw.header.revision) };
  }

  /** Write one key; returns the new revision. */
  async put(key: string, value: string, options: { lease?: string } = {}): Promise<number> {
    const raw = await this.call("/kv/put", { key: b64(key), value: b64(value), ...(options.lease === undefined ? {} : { lease: options.lease }) }, putResponseSchema);
    return Number(raw.header.revision);
  }

  /** Delete keys; returns how many went and the revision after. */
  async deleteRange(range: KeyRange): Promise<{ deleted: number; revision: number }> {
    const raw = await this.call("/kv/deleterange", rangeBody(range), deleteResponseSchema);
    return { deleted: Number(raw.deleted), revision: Number(raw.header.revision) };
  }

  /** If every compare holds, run `success`, otherwise `failure`: atomically, at one revision. */
  async txn(compare: Compare[], success: TxnOp[], failure: TxnOp[] = []): Promise<TxnResult> {
    const body = { compare: compare.map(compareBody), success: success.map(opBody), failure: failure.map(opBody) };
    const raw = await this.call("/kv/txn", body, txnResponseSchema);
    const responses = (raw.responses ?? []).map((response): TxnOpResult => {
      if (response.response_range) return { kvs: (response.response_range.kvs ?? []).map(toKeyValue) };
      if (response.response_delete_range) {
        return { deleted: Number(response.response_delete_range.deleted), prevKvs: (response.response_delete_range.prev_kvs ?? []).map(toKeyValue) };
      }
      return {};
    });
    return { succeeded: raw.succeeded === true, revision: Number(raw.header.revision), responses };
  }

  /** Drop history at or below `revision`; watches from before it get GoneError. */
  async compact(revision: number, physical = true): Promise<void> {
    try {
      await this.call("/kv/compaction", { revision: String(revision), physical }, errorBodySchema);
    } catch (error) {
      // Compacting what is already compacted is done, not a failure.
      if (error instanceof GoneError) return;
      throw error;
    }
  }

  /** Grant an etcd lease of `ttlSeconds`; returns its id. */
  async leaseGrant(ttlSeconds: number): Promise<string> {
    const raw = await this.call("/lease/grant", { TTL: String(ttlSeconds) }, leaseGrantResponseSchema);
    if (raw.error !== undefined && raw.error !== "") throw new EtcdResponseError(raw.error, 0);
    return raw.ID;
  }

  /** Keep a lease alive once; returns the remaining TTL in seconds, 0 when it has expired. */
  async leaseKeepAlive(id: string): Promise<number> {
    const raw = await this.call("/lease/keepalive", { ID: id }, leaseKeepAliveResponseSchema, { idempotent: true });
    return Number(raw.result.TTL);
  }

  /** Revoke a lease and delete the keys attached to it; a lease already gone is fine. */
  async leaseRevoke(id: string): Promise<void> {
    try {
      await this.call("/lease/revoke", { ID: id }, errorBodySchema);
    } catch (error) {
      if (error instanceof EtcdResponseError && error.grpcCode === GRPC_NOT_FOUND) return;
      throw error;
    }
  }

  /** The status of the member that answers. */
  async status(): Promise<MemberStatus> {
    const raw = await this.call("/maintenance/status", {}, statusResponseSchema, { idempotent: true });
    return {
      version: raw.version,
      dbSize: Number(raw.dbSize),
      leader: raw.leader,
      memberId: raw.header.member_id,
      revision: Number(raw.header.revision),
      raftTerm: Number(raw.raftTerm),
    };
  }

  /** Defragment every member, so compacted data no longer remains in their files. */
  async defragment(): Promise<void> {
    for (const [index, pool] of this.pools.entries()) {
      try {
        // Not tracked: a member busy defragmenting may miss its probes, and this request should wait for it anyway.
        await this.send(pool, "/maintenance/defragment", {}, errorBodySchema, { idempotent: false, unreachable: NEVER });
      } catch (error) {
        throw this.unavailable(error instanceof Error ? error : new Error(String(error)), `defragmenting ${this.endpoints[index] ?? ""}`);
      }
    }
  }

  /**
   * Open a streaming request (a watch) on the first member that accepts it; the caller reads newline-delimited
   * JSON messages from the body and destroys it (or aborts `signal`) to end it.
   */
  async openStream(path: string, body: unknown, signal: AbortSignal): Promise<Readable> {
    return this.failover(async (index) => {
      const pool = this.streamPools[index];
      if (pool === undefined) throw new MemberFailure("no such member", { retryable: true });
      const work = this.health.track(index);
      try {
        const response = await pool
          .request({ method: "POST", path: `/v3${path}`, body: JSON.stringify(body), headers: requestHeaders(true), signal: AbortSignal.any([signal, work.signal]) })
          .catch((error: unknown) => {
            throw classifyTransportError(error, true);
          });
        if (response.statusCode !== 200) throw responseFailure(response.statusCode, await response.body.text(), true);
        response.body.once("close", work.done);
        return response.body;
      } catch (error) {
        work.done();
        throw error;
      }
    });
  }

  /** Whether member `index` answers at all (any HTTP answer will do: a member without a leader still answers). */
  private async probe(index: number, signal: AbortSignal): Promise<void> {
    const pool = this.probePools[index];
    if (pool === undefined) return;
    const response = await pool.request({ method: "POST", path: "/v3/maintenance/status", body: "{}", headers: requestHeaders(false), signal });
    await response.body.dump();
  }

  /** Stop every connection; later calls fail with UnavailableError. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.health.stop();
    await Promise.allSettled([...this.pools, ...this.streamPools, ...this.probePools].map((pool) => pool.destroy()));
  }

  /** Whether `close` was called: nothing more will be answered. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Describe the cluster for messages: `etcd at h1:2379,h2:2379`. */
  describe(): string {
    return `etcd at ${this.endpoints.join(",")}`;
  }

  private async call<S extends z.ZodType>(path: string, body: unknown, schema: S, options: CallOptions = {}): Promise<z.infer<S>> {
    return this.failover(async (index) => {
      const pool = this.pools[index];
      if (pool === undefined) throw new MemberFailure("no such member", { retryable: true });
      const work = this.health.track(index);
      return this.send(pool, path, body, schema, { idempotent: options.idempotent === true, unreachable: work.signal }).finally(work.done);
    });
  }

  /** One request to one member; `unreachable` aborts it when the member stops answering its probes. */
  private async send<S extends z.ZodType>(pool: Pool, path: string, body: unknown, schema: S, how: { idempotent: boolean; unreachable: AbortSignal }): Promise<z.infer<S>> {
    const { idempotent, unreachable } = how;
    const signal = AbortSignal.any([AbortSignal.timeout(this.timeoutMs), unreachable]);
    const response = await pool.request({ method: "POST", path: `/v3${path}`, body: JSON.stringify(body), headers: requestHeaders(false), signal }).catch((error: unknown) => {
      throw classifyTransportError(error, idempotent);
    });
    const text = await response.body.text().catch((error: unknown) => {
      throw classifyTransportError(error, idempotent);
    });
    if (response.statusCode !== 200) throw responseFailure(response.statusCode, text, idempotent);
    return schema.parse(JSON.parse(text));
  }

  /** Try the preferred member, then the others in order, while failures allow it; remember who answered. */
  private async failover<T>(attempt: (index: number) => Promise<T>): Promise<T> {
    if (this.closed) throw new UnavailableError(`the store (${this.describe()}) is closed`);
    let last: Error = new Error("no member was tried");
    const start = this.preferred;
    for (let step = 0; step < this.pools.length; step++) {
      const index = (start + step) % this.pools.length;
      try {
        const result = await attempt(index);
        this.preferred = index;
        return result;
      } catch (error) {
        if (!(error instanceof MemberFailure)) throw error;
        last = error;
        // Next time start with the member after this one, whether or not this request may move on.
        if (this.preferred === index) this.preferred = (index + 1) % this.pools.length;
        if (!error.retryable) break;
      }
    }
    throw this.unavailable(last);
  }

  private unavailable(error: Error, doing = ""): UnavailableError {
    const why =
      error instanceof MemberFailure && error.quorum
        ? "no quorum (a majority of the etcd members is down or unreachable)"
        : "no etcd member is reachable, or none has a leader";
    const during = doing === "" ? "" : ` while ${doing}`;
    return new UnavailableError(
      `the store (${this.describe()}) does not answer${during}: ${why}: ${error.message}; writes are refused until a majority of the etcd members is back, then retry`,
      { cause: error },
    );
  }
}

function tlsOptions(options: EtcdConnection): { ca: Buffer; cert?: Buffer; key?: Buffer } | undefined {
  if (options.ca === undefined) return undefined;
  if ((options.cert === undefined) !== (options.key === undefined)) {
    throw new InternalError("an etcd client certificate needs both the certificate and its key (--etcd-cert and --etcd-key)");
  }
  return {
    ca: readFileSync(options.ca),
    ...(options.cert === undefined ? {} : { cert: readFileSync(options.cert) }),
    ...(options.key === undefined ? {} : { key: readFileSync(options.key) }),
  };
}

function requestHeaders(stream: boolean): Record<string, string> {
  // hasleader: a member cut off from the leader ends the stream, so the watch moves to a member that has one.
  return stream ? { "content-type": "application/json", "grpc-metadata-hasleader": "true" } : { "content-type": "application/json" };
}

function rangeBody(range: KeyRange): { key: string; range_end?: string } {
  const key = b64(range.key);
  if (range.prefix === true) return { key, range_end: prefixEndB64(range.key) };
  if (range.end !== undefined) return { key, range_end: b64(range.end) };
  if (range.endOfPrefix !== undefined) return { key, range_end: prefixEndB64(range.endOfPrefix) };
  return { key };
}

function compareBody(compare: Compare): Record<string, string> {
  const base = { key: b64(compare.key), target: compare.target, result: compare.result };
  switch (compare.target) {
    case "VERSION":
      return { ...base, version: String(compare.value) };
    case "CREATE":
      return { ...base, create_revision: String(compare.value) };
    case "MOD":
      return { ...base, mod_revision: String(compare.value) };
    case "VALUE":
      return { ...base, value: b64(String(compare.value)) };
    case "LEASE":
      return { ...base, lease: String(compare.value) };
  }
}

function opBody(op: TxnOp): Record<string, unknown> {
  if ("put" in op) return { request_put: { key: b64(op.put.key), value: b64(op.put.value), ...(op.put.lease === undefined ? {} : { lease: op.put.lease }) } };
  if ("range" in op) return { request_range: rangeBody(op.range) };
  return { request_delete_range: { ...rangeBody(op.deleteRange), ...(op.deleteRange.prevKv === true ? { prev_kv: true } : {}) } };
}

/** A failure before or while talking to one member: may the next member be asked? */
function classifyTransportError(error: unknown, idempotent: boolean): MemberFailure {
  // The member stopped answering its probes: like a timeout, except that no quorum question was asked.
  if (error instanceof MemberUnreachableError) return new MemberFailure(error.message, { retryable: idempotent, cause: error });
  const code = (error as { code?: unknown }).code;
  const name = error instanceof Error ? error.name : "";
  const connectFailed = typeof code === "string" && CONNECT_ERRORS.has(code);
  const timedOut = name === "TimeoutError" || name === "AbortError" || code === "UND_ERR_HEADERS_TIMEOUT";
  const message = timedOut ? "the request timed out" : errorMessage(error);
  // A request that was never sent can go elsewhere; one that may have been applied only when repeating it is harmless.
  return new MemberFailure(message, { retryable: connectFailed || idempotent, quorum: timedOut, cause: error });
}

/** A non-200 answer: etcd's own error, with its gRPC code. */
function responseFailure(status: number, text: string, idempotent: boolean): Error {
  const { message, code } = parseErrorBody(text);
  if (code === GRPC_OUT_OF_RANGE && message.includes("compacted")) {
    return new GoneError(`${message}; list again and watch from the list's resourceVersion`);
  }
  if (code === GRPC_UNAVAILABLE || code === GRPC_DEADLINE_EXCEEDED || status === 503 || status === 504) {
    // "no leader" means the request was not proposed, so another member may take it; a timeout may have applied.
    const notProposed = message.includes("no leader") || message.includes("not capable");
    return new MemberFailure(message, { retryable: idempotent || notProposed, quorum: true });
  }
  return new EtcdResponseError(message, code);
}

function parseErrorBody(text: string): { message: string; code: number } {
  const parsed = errorBodySchema.safeParse(safeJson(text));
  if (!parsed.success) return { message: text, code: 0 };
  return { message: parsed.data.message ?? parsed.data.error ?? text, code: parsed.data.code ?? 0 };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
