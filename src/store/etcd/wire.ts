/** The etcd v3 JSON gateway's wire format: base64 keys and values, int64 as strings, zero values left out. */
import { z } from "zod";

/** One key-value pair as this client shows it: keys and values as UTF-8 text, revisions as numbers. */
export interface KeyValue {
  key: string;
  value: string;
  createRevision: number;
  modRevision: number;
  version: number;
  /** The etcd lease the key is attached to; "0" when none. */
  lease: string;
}

const int64 = z.union([z.string(), z.number()]).optional().transform((value) => (value === undefined ? "0" : String(value)));

export const headerSchema = z.object({ revision: int64, member_id: int64 }).loose();

export const keyValueSchema = z
  .object({ key: z.string(), value: z.string().optional(), create_revision: int64, mod_revision: int64, version: int64, lease: int64 })
  .loose();

export const rangeResponseSchema = z.object({ header: headerSchema, kvs: z.array(keyValueSchema).optional(), count: int64, more: z.boolean().optional() }).loose();
export const putResponseSchema = z.object({ header: headerSchema, prev_kv: keyValueSchema.optional() }).loose();
export const deleteResponseSchema = z.object({ header: headerSchema, deleted: int64, prev_kvs: z.array(keyValueSchema).optional() }).loose();
export const txnResponseSchema = z
  .object({
    header: headerSchema,
    succeeded: z.boolean().optional(),
    responses: z
      .array(
        z
          .object({
            response_range: rangeResponseSchema.partial({ header: true }).optional(),
            response_put: putResponseSchema.partial({ header: true }).optional(),
            response_delete_range: deleteResponseSchema.partial({ header: true }).optional(),
          })
          .loose(),
      )
      .optional(),
  })
  .loose();
export const leaseGrantResponseSchema = z.object({ ID: int64, TTL: int64, error: z.string().optional() }).loose();
export const leaseKeepAliveResponseSchema = z.object({ result: z.object({ ID: int64, TTL: int64 }).loose() }).loose();
export const statusResponseSchema = z
  .object({ header: headerSchema, version: z.string(), dbSize: int64, leader: int64, raftIndex: int64, raftTerm: int64, errors: z.array(z.string()).optional() })
  .loose();
export const errorBodySchema = z.object({ error: z.string().optional(), message: z.string().optional(), code: z.number().optional() }).loose();

export const watchEventSchema = z.object({ type: z.string().optional(), kv: keyValueSchema, prev_kv: keyValueSchema.optional() }).loose();
export const watchMessageSchema = z.union([
  z.object({
    result: z
      .object({
        header: headerSchema,
        watch_id: int64,
        created: z.boolean().optional(),
        canceled: z.boolean().optional(),
        compact_revision: int64,
        cancel_reason: z.string().optional(),
        events: z.array(watchEventSchema).optional(),
      })
      .loose(),
  }),
  z.object({ error: errorBodySchema }),
]);

/** Text to the gateway's base64. */
export function b64(text: string): string {
  return Buffer.from(text, "utf8").toString("base64");
}

/** The gateway's base64 to text. */
export function unb64(value: string | undefined): string {
  return value === undefined ? "" : Buffer.from(value, "base64").toString("utf8");
}

/** The first key after every key that starts with `prefix` (etcd's range_end for a prefix), in base64. */
export function prefixEndB64(prefix: string): string {
  const bytes = Buffer.from(prefix, "utf8");
  for (let i = bytes.length - 1; i >= 0; i--) {
    const byte = bytes[i] ?? 0;
    if (byte < 0xff) {
      const end = Buffer.from(bytes.subarray(0, i + 1));
      end[i] = byte + 1;
      return end.toString("base64");
    }
  }
  return Buffer.from([0]).toString("base64");
}

/** A key-value from the wire. */
export function toKeyValue(raw: z.infer<typeof keyValueSchema>): KeyValue {
  return {
    key: unb64(raw.key),
    value: unb64(raw.value),
    createRevision: Number(raw.create_revision),
    modRevision: Number(raw.mod_revision),
    version: Number(raw.version),
    lease: raw.lease,
  };
}
