/** AWS Signature Version 4 for S3 requests (Authorization header form), with node:crypto. */
import { createHash, createHmac } from "node:crypto";

/** Credentials for signing; held by value, never logged. */
export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** What gets signed. `path` is already URI-encoded; header names are lower case. */
export interface SigningRequest {
  method: string;
  host: string;
  path: string;
  query: ReadonlyArray<readonly [string, string]>;
  headers: Readonly<Record<string, string>>;
  payloadSha256: string;
  date: Date;
  region: string;
  service?: string;
}

export const EMPTY_SHA256 = createHash("sha256").update("").digest("hex");

/** The headers to send: the request's own, plus host-independent `x-amz-*` headers and `authorization`. */
export function signRequest(request: SigningRequest, credentials: S3Credentials): Record<string, string> {
  const amzDate = request.date.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
  const day = amzDate.slice(0, 8);
  const service = request.service ?? "s3";
  const headers: Record<string, string> = {
    ...request.headers,
    "x-amz-content-sha256": request.payloadSha256,
    "x-amz-date": amzDate,
  };
  if (credentials.sessionToken !== undefined) headers["x-amz-security-token"] = credentials.sessionToken;
  const signed: Record<string, string> = { ...headers, host: request.host };
  const names = Object.keys(signed).sort();
  const canonicalHeaders = names.map((name) => `${name}:${(signed[name] ?? "").trim().replace(/\s+/g, " ")}\n`).join("");
  const signedHeaders = names.join(";");
  const canonicalRequest = [
    request.method,
    request.path,
    canonicalQuery(request.query),
    canonicalHeaders,
    signedHeaders,
    request.payloadSha256,
  ].join("\n");
  const scope = `${day}/${request.region}/${service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256Hex(canonicalRequest)].join("\n");
  const signingKey = [day, request.region, service, "aws4_request"].reduce<Buffer>(
    (key, part) => hmac(key, part),
    Buffer.from(`AWS4${credentials.secretAccessKey}`, "utf8"),
  );
  const signature = createHmac("sha256", signingKey).update(stringToSign, "utf8").digest("hex");
  headers["authorization"] =
    `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return headers;
}

/** RFC 3986 encoding as SigV4 wants it: everything but unreserved characters, `/` too. */
export function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** A path from raw segments, each encoded (S3 does not double-encode). */
export function encodePath(segments: readonly string[]): string {
  return `/${segments.map(uriEncode).join("/")}`;
}

/** The query string, sorted and encoded the same way for the URL and the signature. */
export function canonicalQuery(query: ReadonlyArray<readonly [string, string]>): string {
  return query
    .map(([key, value]) => [uriEncode(key), uriEncode(value)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join("&");
}

export function sha256Hex(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

function hmac(key: Buffer, data: string): Buffer {
  return createHmac("sha256", key).update(data, "utf8").digest();
}
