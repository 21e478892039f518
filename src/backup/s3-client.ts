/** Signed HTTP requests to an S3-compatible endpoint (path-style), with retries and errors mapped to Holdfast's. */
import { setTimeout as sleep } from "node:timers/promises";
import { ForbiddenError, InvalidError, NotFoundError, UnavailableError, type HoldfastError } from "../errors/index.ts";
import { canonicalQuery, EMPTY_SHA256, encodePath, sha256Hex, signRequest, type S3Credentials } from "./s3-signature.ts";
import { firstText } from "./s3-xml.ts";

/** Where and as whom to connect. */
export interface S3Endpoint {
  /** `https://s3.example.com`, or `http://127.0.0.1:9000` (plain http is refused off loopback unless `allowHttp`). */
  endpoint: string;
  region: string;
  bucket: string;
  credentials: S3Credentials;
  allowHttp?: boolean;
  requestTimeoutMs?: number;
  /** Attempts after the first for network failures, 5xx and throttling. */
  retries?: number;
}

/** One request. `key` is the full object key (repository prefix included); omitted for bucket-level requests. */
export interface S3Request {
  method: "GET" | "PUT" | "POST" | "DELETE";
  key?: string;
  query?: ReadonlyArray<readonly [string, string]>;
  headers?: Record<string, string>;
  body?: Buffer;
  /** Refuse a response body larger than this. */
  maxBytes?: number;
}

/** A successful response. */
export interface S3Response {
  status: number;
  headers: Headers;
  body: Buffer;
}

/** An error response, kept so callers can treat some codes (NoSuchKey, NotImplemented) as answers. */
export class S3ResponseError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);
const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** Sends signed requests; the secret key lives in a private field and appears in no message. */
export class S3Client {
  readonly bucket: string;
  readonly #base: URL;
  readonly #region: string;
  readonly #credentials: S3Credentials;
  readonly #timeoutMs: number;
  readonly #retries: number;

  constructor(endpoint: S3Endpoint) {
    this.#base = parseEndpoint(endpoint.endpoint, endpoint.allowHttp ?? false);
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(endpoint.bucket)) {
      throw new InvalidError(`invalid bucket name "${endpoint.bucket}": use 3-63 lower-case letters, digits, "." and "-"`);
    }
    if (endpoint.credentials.accessKeyId === "" || endpoint.credentials.secretAccessKey === "") {
      throw new InvalidError("the S3 repository needs an access key id and a secret access key");
    }
    this.bucket = endpoint.bucket;
    this.#region = endpoint.region;
    this.#credentials = { ...endpoint.credentials };
    this.#timeoutMs = endpoint.requestTimeoutMs ?? 120_000;
    this.#retries = endpoint.retries ?? 3;
  }

  /** The response for a 2xx status; S3ResponseError for 404/501 answers, Holdfast errors for the rest. */
  async send(request: S3Request): Promise<S3Response> {
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await this.fetchOnce(request);
      } catch (error) {
        if (attempt < this.#retries) {
          await backoff(attempt);
          continue;
        }
        throw new UnavailableError(`cannot reach ${this.describe(request)}: ${errorText(error)}; check the endpoint and the network`, {
          cause: error,
        });
      }
      if (RETRYABLE_STATUS.has(response.status) && attempt < this.#retries) {
        await response.body?.cancel();
        await backoff(attempt);
        continue;
      }
      return this.accept(request, response);
    }
  }

  /** `s3://bucket/key?query` for messages. */
  describe(request: Pick<S3Request, "key" | "query">): string {
    const query = request.query === undefined || request.query.length === 0 ? "" : `?${request.query.map(([k]) => k).join("&")}`;
    return `s3://${this.bucket}/${request.key ?? ""}${query}`;
  }

  private async fetchOnce(request: S3Request): Promise<Response> {
    const path = encodePath([this.bucket, ...(request.key === undefined ? [] : request.key.split("/"))]);
    const query = request.query ?? [];
    const url = new URL(this.#base);
    url.pathname = path;
    url.search = canonicalQuery(query);
    const payloadSha256 = request.body === undefined ? EMPTY_SHA256 : sha256Hex(request.body);
    const headers = signRequest(
      { method: request.method, host: url.host, path, query, headers: request.headers ?? {}, payloadSha256, date: new Date(), region: this.#region },
      this.#credentials,
    );
    return fetch(url, {
      method: request.method,
      headers,
      ...(request.body === undefined ? {} : { body: request.body }),
      signal: AbortSignal.timeout(this.#timeoutMs),
      redirect: "manual",
    });
  }

  private async accept(request: S3Request, response: Response): Promise<S3Response> {
    if (response.status >= 200 && response.status < 300) return { status: response.status, headers: response.headers, body: await this.readBody(request, response) };
    const text = await response.text().catch(() => "");
    const code = firstText(text, "Code") ?? `HTTP ${response.status}`;
    const message = firstText(text, "Message") ?? response.statusText;
    if (response.status === 404 || response.status === 501) throw new S3ResponseError(response.status, code, message);
    throw this.mapError(request, response.status, code, message);
  }

  private async readBody(request: S3Request, response: Response): Promise<Buffer> {
    const limit = request.maxBytes ?? Infinity;
    const declared = Number(response.headers.get("content-length") ?? "0");
    if (declared > limit) {
      await response.body?.cancel();
      throw this.tooLarge(request, declared);
    }
    const body = Buffer.from(await response.arrayBuffer());
    if (body.length > limit) throw this.tooLarge(request, body.length);
    return body;
  }

  private tooLarge(request: S3Request, bytes: number): InvalidError {
    return new InvalidError(`${this.describe(request)} is ${bytes} bytes, more than the ${request.maxBytes ?? 0} expected`);
  }

  private mapError(request: S3Request, status: number, code: string, message: string): HoldfastError {
    const what = `${request.method} ${this.describe(request)} failed: ${code}: ${message}`;
    if (status === 401 || status === 403) {
      return new ForbiddenError(`${what}; check the repository's access key, secret and region, and the bucket policy`);
    }
    if (status === 400) return new InvalidError(`${what}; check the repository's endpoint, region and bucket`);
    return new UnavailableError(`${what}; the object store is not available, try again later`);
  }
}

/** A 404 or 501 answer turned into the error a repository user expects. */
export function notFoundOrUnavailable(client: S3Client, request: S3Request, error: unknown): Error {
  if (!(error instanceof S3ResponseError)) return error instanceof Error ? error : new Error(String(error));
  if (error.code === "NoSuchBucket") {
    return new NotFoundError(`bucket ${client.bucket} does not exist: create it or fix the repository's bucket name`);
  }
  if (error.status === 404) return new NotFoundError(`${client.describe(request)} does not exist`);
  return new UnavailableError(`${request.method} ${client.describe(request)} is not implemented by this object store (${error.code})`);
}

function parseEndpoint(endpoint: string, allowHttp: boolean): URL {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new InvalidError("invalid S3 endpoint: use a URL such as https://s3.example.com");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new InvalidError("invalid S3 endpoint: use an https:// URL");
  if (url.protocol === "http:" && !allowHttp && !LOOPBACK.has(url.hostname) && !url.hostname.startsWith("127.")) {
    throw new InvalidError(`S3 endpoint ${url.origin} uses plain http off this host: use https, or allow http explicitly`);
  }
  if (url.username !== "" || url.password !== "" || (url.pathname !== "/" && url.pathname !== "")) {
    throw new InvalidError(`invalid S3 endpoint "${url.origin}": give scheme, host and port only; credentials go in the access key fields`);
  }
  return new URL(url.origin);
}

async function backoff(attempt: number): Promise<void> {
  await sleep(200 * 2 ** attempt + Math.floor(Math.random() * 100));
}

function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : "";
  return `${error.message}${cause}`;
}
