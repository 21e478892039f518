/** Reading request bodies: JSON only, bounded in size. */
import type { IncomingMessage } from "node:http";
import { parse as parseYaml } from "yaml";
import { InputError } from "../errors/index.ts";
import { RequestEntityTooLargeError, UnsupportedMediaTypeError } from "./http-errors.ts";
import { decodeKubernetesProtobuf, PROTOBUF_MEDIA_TYPE } from "./kubernetes-protobuf.ts";

/** Largest body the server reads, as Kubernetes' default limit. */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

/** The body media types of PATCH, as Kubernetes names them. */
export const PATCH_MEDIA_TYPES = ["application/merge-patch+json", "application/json-patch+json", "application/strategic-merge-patch+json", "application/apply-patch+yaml"] as const;

/** One of the patch media types. */
export type PatchMediaType = (typeof PATCH_MEDIA_TYPES)[number];

/** Media types by how a body is used. */
export type BodyMediaType = "application/json" | PatchMediaType;

/** The media type of a request's body, lower case, without parameters. */
export function mediaTypeOf(request: IncomingMessage): string {
  return (request.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

/** Refuse a body whose Content-Type is not `accepted` (415), before reading it. */
export function requireMediaType(request: IncomingMessage, accepted: "application/json"): void {
  const mediaType = mediaTypeOf(request);
  // The kinds kubectl sends as protobuf are decoded into JSON when read (kubernetes-protobuf.ts); others are a 415 then.
  if (mediaType === accepted || mediaType === PROTOBUF_MEDIA_TYPE) return;
  throw new UnsupportedMediaTypeError(`the body's media type "${mediaType || "(none)"}" is not supported: the API reads JSON; send Content-Type: ${accepted}`);
}

/** The patch media type of a PATCH (415 naming those served otherwise); `allowed` narrows them (no apply on status). */
export function requirePatchMediaType(request: IncomingMessage, allowed: readonly PatchMediaType[] = PATCH_MEDIA_TYPES): PatchMediaType {
  const mediaType = mediaTypeOf(request);
  const found = allowed.find((type) => type === mediaType);
  if (found !== undefined) return found;
  throw new UnsupportedMediaTypeError(`the body's media type "${mediaType || "(none)"}" is not supported for PATCH here; send one of: ${allowed.join(", ")}`);
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
  const bytes = Buffer.concat(chunks);
  const mediaType = mediaTypeOf(request);
  if (mediaType === PROTOBUF_MEDIA_TYPE) return decodeKubernetesProtobuf(bytes);
  const text = bytes.toString("utf8");
  return mediaType === "application/apply-patch+yaml" ? parseApplyYaml(text) : parseJson(text);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new InputError(`the request body is not valid JSON: ${error instanceof SyntaxError ? error.message : "parse error"}`);
  }
}

/** An apply body is YAML (JSON is YAML too); aliases are limited so a small body cannot expand into a huge one. */
function parseApplyYaml(text: string): unknown {
  try {
    return parseYaml(text, { maxAliasCount: 100, schema: "core" }) as unknown;
  } catch (error) {
    throw new InputError(`the apply body is not valid YAML: ${error instanceof Error ? error.message : "parse error"}`);
  }
}

function tooLarge(limit: number): RequestEntityTooLargeError {
  return new RequestEntityTooLargeError(`the request body is larger than ${limit / (1024 * 1024)} MiB; split the object or store large data elsewhere`);
}

/** Is there a body to read (a declared length or chunked encoding)? */
export function hasBody(request: IncomingMessage): boolean {
  return Number(request.headers["content-length"] ?? "0") > 0 || request.headers["transfer-encoding"] !== undefined;
}
