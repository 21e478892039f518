/**
 * A backup repository in an S3-compatible bucket, under an optional key prefix. A PUT is atomic in S3; objects
 * above the multipart threshold go up in parts, completed (and so made visible) in one request at the end.
 */
import { InvalidError } from "../errors/index.ts";
import { notFoundOrUnavailable, S3Client, S3ResponseError, type S3Request } from "./s3-client.ts";
import { elements, elementTexts, escapeXml, firstText } from "./s3-xml.ts";
import { assertKeyPrefix, assertObjectKey } from "./object-keys.ts";
import type { BackupRepository, GetOptions, RepositoryObject } from "./repository.ts";

const MIN_PART_BYTES = 5 * 1024 * 1024;

/** Where the repository is and how to reach it. Credentials are values, held privately by the client. */
export interface S3RepositoryOptions {
  endpoint: string;
  region: string;
  bucket: string;
  /** Key prefix inside the bucket, e.g. `holdfast/prod` (no leading or trailing slash). */
  prefix?: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** Allow plain http to a host other than loopback. */
  allowHttp?: boolean;
  /** Objects larger than this go up as multipart uploads (default 64 MiB). */
  multipartThreshold?: number;
  /** Part size of multipart uploads (default 16 MiB, at least 5 MiB as S3 requires). */
  partSize?: number;
  requestTimeoutMs?: number;
  retries?: number;
}

/** A repository in an S3-compatible bucket. */
export class S3Repository implements BackupRepository {
  readonly location: string;
  readonly #client: S3Client;
  readonly #prefix: string;
  readonly #multipartThreshold: number;
  readonly #partSize: number;

  constructor(options: S3RepositoryOptions) {
    const prefix = options.prefix ?? "";
    if (prefix !== "") assertObjectKey(prefix);
    const partSize = options.partSize ?? 16 * 1024 * 1024;
    if (partSize < MIN_PART_BYTES) throw new InvalidError(`S3 part size must be at least ${MIN_PART_BYTES} bytes`);
    this.#client = new S3Client({
      endpoint: options.endpoint,
      region: options.region,
      bucket: options.bucket,
      credentials: {
        accessKeyId: options.accessKeyId,
        secretAccessKey: options.secretAccessKey,
        ...(options.sessionToken === undefined ? {} : { sessionToken: options.sessionToken }),
      },
      ...(options.allowHttp === undefined ? {} : { allowHttp: options.allowHttp }),
      ...(options.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: options.requestTimeoutMs }),
      ...(options.retries === undefined ? {} : { retries: options.retries }),
    });
    this.#prefix = prefix === "" ? "" : `${prefix}/`;
    this.#multipartThreshold = options.multipartThreshold ?? 64 * 1024 * 1024;
    this.#partSize = partSize;
    this.location = `s3://${options.bucket}/${prefix}`;
  }

  async put(key: string, body: Buffer): Promise<void> {
    const full = this.fullKey(key);
    if (body.length > this.#multipartThreshold) {
      await this.putMultipart(full, body);
      return;
    }
    await this.send({ method: "PUT", key: full, body, headers: { "content-type": "application/octet-stream" } });
  }

  /** An S3 object is durable once its PUT (or multipart completion) succeeded: nothing is left to flush. */
  async flush(_keys: readonly string[]): Promise<void> {
    // Nothing to do: see above.
  }

  async get(key: string, options: GetOptions = {}): Promise<Buffer> {
    const request: S3Request = { method: "GET", key: this.fullKey(key), ...(options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes }) };
    return (await this.send(request)).body;
  }

  async *list(prefix: string): AsyncIterable<RepositoryObject> {
    assertKeyPrefix(prefix);
    let continuation: string | undefined;
    do {
      const query: Array<[string, string]> = [["list-type", "2"], ["prefix", this.#prefix + prefix]];
      if (continuation !== undefined) query.push(["continuation-token", continuation]);
      const xml = (await this.send({ method: "GET", query })).body.toString("utf8");
      for (const item of elements(xml, "Contents")) {
        const key = firstText(item, "Key") ?? "";
        if (!key.startsWith(this.#prefix)) continue;
        yield {
          key: key.slice(this.#prefix.length),
          size: Number(firstText(item, "Size") ?? "0"),
          lastModified: new Date(firstText(item, "LastModified") ?? 0),
        };
      }
      const truncated = firstText(xml, "IsTruncated");
      continuation = truncated === "true" ? firstText(xml, "NextContinuationToken") : undefined;
    } while (continuation !== undefined);
  }

  async delete(key: string): Promise<void> {
    try {
      await this.#client.send({ method: "DELETE", key: this.fullKey(key) });
    } catch (error) {
      if (error instanceof S3ResponseError && error.status === 404 && error.code !== "NoSuchBucket") return;
      throw notFoundOrUnavailable(this.#client, { method: "DELETE", key }, error);
    }
  }

  async sweepIncompleteUploads(olderThan: Date, under?: string): Promise<number> {
    let xml: string;
    try {
      xml = (await this.#client.send({ method: "GET", query: [["uploads", ""], ["prefix", this.#prefix + (under ?? "")]] })).body.toString("utf8");
    } catch (error) {
      // Some S3-compatible stores do not list uploads; a bucket lifecycle rule then has to expire them.
      if (error instanceof S3ResponseError && error.status === 501) return 0;
      throw notFoundOrUnavailable(this.#client, { method: "GET", query: [["uploads", ""]] }, error);
    }
    let aborted = 0;
    for (const upload of elements(xml, "Upload")) {
      const key = firstText(upload, "Key");
      const uploadId = firstText(upload, "UploadId");
      const initiated = new Date(firstText(upload, "Initiated") ?? Date.now());
      if (key === undefined || uploadId === undefined || initiated >= olderThan) continue;
      await this.abortUpload(key, uploadId);
      aborted++;
    }
    return aborted;
  }

  private fullKey(key: string): string {
    assertObjectKey(key);
    return this.#prefix + key;
  }

  private async send(request: S3Request): Promise<{ body: Buffer; headers: Headers }> {
    try {
      return await this.#client.send(request);
    } catch (error) {
      throw notFoundOrUnavailable(this.#client, request, error);
    }
  }

  private async putMultipart(key: string, body: Buffer): Promise<void> {
    const created = await this.send({ method: "POST", key, query: [["uploads", ""]], headers: { "content-type": "application/octet-stream" } });
    const uploadId = firstText(created.body.toString("utf8"), "UploadId");
    if (uploadId === undefined) throw new InvalidError(`${this.#client.describe({ key })}: the object store returned no upload id`);
    try {
      const etags: string[] = [];
      for (let offset = 0, part = 1; offset < body.length; offset += this.#partSize, part++) {
        const query: Array<[string, string]> = [["partNumber", String(part)], ["uploadId", uploadId]];
        const sent = await this.send({ method: "PUT", key, query, body: body.subarray(offset, offset + this.#partSize) });
        etags.push(sent.headers.get("etag") ?? "");
      }
      await this.completeUpload(key, uploadId, etags);
    } catch (error) {
      await this.abortUpload(key, uploadId).catch(() => undefined);
      throw error;
    }
  }

  private async completeUpload(key: string, uploadId: string, etags: readonly string[]): Promise<void> {
    const parts = etags.map((etag, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${escapeXml(etag)}</ETag></Part>`).join("");
    const body = Buffer.from(`<CompleteMultipartUpload>${parts}</CompleteMultipartUpload>`, "utf8");
    const done = await this.send({ method: "POST", key, query: [["uploadId", uploadId]], body, headers: { "content-type": "application/xml" } });
    // S3 can answer 200 and still report an error in the body.
    const text = done.body.toString("utf8");
    if (elementTexts(text, "Code").length > 0 && text.includes("<Error>")) {
      throw new InvalidError(`completing the upload of ${this.#client.describe({ key })} failed: ${firstText(text, "Code") ?? "error"}`);
    }
  }

  private async abortUpload(key: string, uploadId: string): Promise<void> {
    await this.#client.send({ method: "DELETE", key, query: [["uploadId", uploadId]] });
  }
}
