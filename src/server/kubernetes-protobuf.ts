/**
 * Reading the few protobuf bodies stock kubectl sends for built-in kinds (`kubectl create namespace`, `create
 * secret`, `auth can-i`): client-go encodes them as protobuf and does not fall back to JSON on a 415. The body is
 * Kubernetes' envelope (`k8s\0` + runtime.Unknown) around one message; it is decoded field by field into the JSON
 * object the same handlers read, so admission, RBAC and audit see exactly what a JSON body would give them.
 * Any other kind in protobuf is a 415 asking for JSON. Answers are always JSON (kubectl accepts it).
 */
import { InputError } from "../errors/index.ts";
import { UnsupportedMediaTypeError } from "./http-errors.ts";

/** Kubernetes' protobuf media type. */
export const PROTOBUF_MEDIA_TYPE = "application/vnd.kubernetes.protobuf";

type FieldType = "string" | "bytes" | "int" | "bool" | MessageSpec | { map: "string" | "bytes" };
interface FieldSpec {
  name: string;
  type: FieldType;
  repeated?: boolean;
}
type MessageSpec = Readonly<Record<number, FieldSpec>>;

const STRING_MAP = { map: "string" } as const;
const OWNER_REFERENCE: MessageSpec = {
  1: { name: "kind", type: "string" },
  3: { name: "name", type: "string" },
  4: { name: "uid", type: "string" },
  5: { name: "apiVersion", type: "string" },
  6: { name: "controller", type: "bool" },
  7: { name: "blockOwnerDeletion", type: "bool" },
};
// k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta, the fields a client may set.
const OBJECT_META: MessageSpec = {
  1: { name: "name", type: "string" },
  2: { name: "generateName", type: "string" },
  3: { name: "namespace", type: "string" },
  5: { name: "uid", type: "string" },
  6: { name: "resourceVersion", type: "string" },
  11: { name: "labels", type: STRING_MAP },
  12: { name: "annotations", type: STRING_MAP },
  13: { name: "ownerReferences", type: OWNER_REFERENCE, repeated: true },
  14: { name: "finalizers", type: "string", repeated: true },
};
const NAMESPACE: MessageSpec = { 1: { name: "metadata", type: OBJECT_META }, 2: { name: "spec", type: { 1: { name: "finalizers", type: "string", repeated: true } } } };
const SECRET: MessageSpec = {
  1: { name: "metadata", type: OBJECT_META },
  2: { name: "data", type: { map: "bytes" } },
  3: { name: "type", type: "string" },
  4: { name: "stringData", type: STRING_MAP },
  5: { name: "immutable", type: "bool" },
};
const RESOURCE_ATTRIBUTES: MessageSpec = {
  1: { name: "namespace", type: "string" },
  2: { name: "verb", type: "string" },
  3: { name: "group", type: "string" },
  4: { name: "version", type: "string" },
  5: { name: "resource", type: "string" },
  6: { name: "subresource", type: "string" },
  7: { name: "name", type: "string" },
};
const SELF_SUBJECT_ACCESS_REVIEW: MessageSpec = {
  1: { name: "metadata", type: OBJECT_META },
  2: { name: "spec", type: { 1: { name: "resourceAttributes", type: RESOURCE_ATTRIBUTES }, 2: { name: "nonResourceAttributes", type: { 1: { name: "path", type: "string" }, 2: { name: "verb", type: "string" } } } } },
};

const MESSAGES: Readonly<Record<string, MessageSpec>> = {
  "v1/Namespace": NAMESPACE,
  "v1/Secret": SECRET,
  "authorization.k8s.io/v1/SelfSubjectAccessReview": SELF_SUBJECT_ACCESS_REVIEW,
};

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);
// runtime.Unknown: typeMeta = 1 (apiVersion = 1, kind = 2), raw = 2, contentEncoding = 3, contentType = 4.
const TYPE_META: MessageSpec = { 1: { name: "apiVersion", type: "string" }, 2: { name: "kind", type: "string" } };
const UNKNOWN: MessageSpec = { 1: { name: "typeMeta", type: TYPE_META }, 2: { name: "raw", type: "bytes" }, 3: { name: "contentEncoding", type: "string" } };

/** Decode a protobuf body of a kind kubectl sends so into its JSON object; 415 for any other kind. */
export function decodeKubernetesProtobuf(body: Buffer): Record<string, unknown> {
  if (body.length < MAGIC.length || !body.subarray(0, MAGIC.length).equals(MAGIC)) throw new InputError("the protobuf body does not start with Kubernetes' k8s\\0 prefix");
  const envelope = decodeMessage(body.subarray(MAGIC.length), UNKNOWN);
  const typeMeta = (envelope["typeMeta"] ?? {}) as { apiVersion?: string; kind?: string };
  const key = `${typeMeta.apiVersion ?? ""}/${typeMeta.kind ?? ""}`;
  const spec = MESSAGES[key];
  if (spec === undefined || (envelope["contentEncoding"] ?? "") !== "") {
    throw new UnsupportedMediaTypeError(`${typeMeta.kind ?? "this kind"} is not read as protobuf here; send it as application/json`);
  }
  const raw = Buffer.from((envelope["raw"] as string | undefined) ?? "", "base64");
  return { apiVersion: typeMeta.apiVersion, kind: typeMeta.kind, ...decodeMessage(raw, spec) };
}

/** A cursor over protobuf wire format. */
class Reader {
  offset = 0;
  readonly bytes: Buffer;

  constructor(bytes: Buffer) {
    this.bytes = bytes;
  }

  get done(): boolean {
    return this.offset >= this.bytes.length;
  }

  varint(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const byte = this.bytes[this.offset];
      if (byte === undefined) throw malformed();
      this.offset += 1;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
    }
    throw malformed();
  }

  chunk(): Buffer {
    const length = Number(this.varint());
    if (this.offset + length > this.bytes.length) throw malformed();
    const slice = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return slice;
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 2) this.chunk();
    else if (wireType === 1 || wireType === 5) this.offset += wireType === 1 ? 8 : 4;
    else throw malformed();
  }
}

function malformed(): InputError {
  return new InputError("the protobuf body is malformed");
}

function decodeMessage(bytes: Buffer, spec: MessageSpec, depth = 0): Record<string, unknown> {
  if (depth > 8) throw malformed();
  const reader = new Reader(bytes);
  const out: Record<string, unknown> = {};
  while (!reader.done) {
    const tag = Number(reader.varint());
    const field = spec[tag >> 3];
    const wireType = tag & 7;
    if (field === undefined) {
      reader.skip(wireType);
      continue;
    }
    const value = decodeField(reader, field.type, wireType, depth);
    // proto2 encoders write empty strings that JSON leaves out (omitempty): leave them out too.
    if (value !== "" || field.repeated === true) setField(out, field, value);
  }
  return out;
}

function setField(out: Record<string, unknown>, field: FieldSpec, value: unknown): void {
  if (typeof field.type === "object" && "map" in field.type) {
    const [key, entry] = value as [string, unknown];
    const map = (out[field.name] ?? {}) as Record<string, unknown>;
    Object.defineProperty(map, key, { value: entry, enumerable: true, writable: true, configurable: true });
    out[field.name] = map;
  } else if (field.repeated === true) {
    out[field.name] = [...((out[field.name] as unknown[] | undefined) ?? []), value];
  } else {
    out[field.name] = value;
  }
}

function decodeField(reader: Reader, type: FieldType, wireType: number, depth: number): unknown {
  if (type === "int" || type === "bool") {
    if (wireType !== 0) throw malformed();
    const number = reader.varint();
    return type === "bool" ? number !== 0n : Number(BigInt.asIntN(64, number));
  }
  if (wireType !== 2) throw malformed();
  const bytes = reader.chunk();
  if (type === "string") return bytes.toString("utf8");
  if (type === "bytes") return bytes.toString("base64");
  if ("map" in type) {
    const entry = decodeMessage(bytes, { 1: { name: "key", type: "string" }, 2: { name: "value", type: type.map } }, depth + 1);
    return [entry["key"] ?? "", entry["value"] ?? ""];
  }
  return decodeMessage(bytes, type, depth + 1);
}
