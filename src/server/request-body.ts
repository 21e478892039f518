/** Reading request bodies: JSON only, bounded in size. */
import type { IncomingMessage } from "node:http";
import { InputError } from "../errors/index.ts";
import { RequestEntityTooLargeError, UnsupportedMediaTypeError } from "./http-errors.ts";

/** Largest body the server reads, as Kubernetes' default limit. */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

/** Media types by how a body is used. */
export type BodyMediaType = "application/json" | "application/merge-patch+json";

function mediaTypeOf(request: IncomingMessage): string {
  return (request.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

/** Refuse a body whose Content-Type is not `accepted` (415), before reading it. */
export function requireMediaType(request: IncomingMessage, accepted: BodyMediaType): void {
  const mediaType = mediaTypeOf(request);
  if (mediaType === accepted) return;
  const hint = accepted === "application/merge-patch+json" ? "PATCH supports only JSON merge patch" : "the API reads JSON only";
  throw new UnsupportedMediaTypeError(`the body's media type "${mediaType || "(none)"}" is not supported: ${hint}; send Content-Type: ${accepted}`);
}

/** Read and parse a JSON body of at most `limit` bytes; an empty body is undefined. */
export async function readJsonBody(request: IncomingMessage, limit = MAX_BODY_BYTES): Promise<unknown> {
  const declared = Number(request.headers["content-length"] ?? "0");
  if (declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(chunk);
  }
  if (size === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
  } catch (error) {
    throw new InputError(`the request body is not valid JSON: ${error instanceof SyntaxError ? error.message : "parse error"}`);
  }
}

function tooLarge(limit: number): RequestEntityTooLargeError {
  return new RequestEntityTooLargeError(`the request body is larger than ${limit / (1024 * 1024)} MiB; split the object or store large data elsewhere`);
}

/** Is there a body to read (a declared length or chunked encoding)? */
export function hasBody(request: IncomingMessage): boolean {
  return Number(request.headers["content-length"] ?? "0") > 0 || request.headers["transfer-encoding"] !== undefined;
}
