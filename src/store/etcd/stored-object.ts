/** Objects to and from etcd values: the codec applied, resourceVersion taken from the key's mod revision. */
import type { Resource } from "../../api/index.ts";
import { decodeListed, jsonCopy } from "../object-rules.ts";
import type { StorageCodec } from "../types.ts";
import type { KeyValue } from "./wire.ts";

/** The codec, plus what etcd adds: resourceVersion is the revision, never part of the stored value. */
export class StoredObjects {
  private readonly codec: StorageCodec;

  constructor(codec: StorageCodec) {
    this.codec = codec;
  }

  /** The value to store for an object. */
  encode(object: Resource): string {
    const copy = jsonCopy(object);
    delete copy.metadata.resourceVersion;
    return JSON.stringify(this.codec.encode(copy));
  }

  /** The object as stored (encoded), with its resourceVersion. */
  stored(kv: KeyValue): Resource {
    return withVersion(JSON.parse(kv.value) as Resource, kv.modRevision);
  }

  /** Decode for a get or an update: a codec failure stands. */
  decode(kv: KeyValue, revision = kv.modRevision): Resource {
    return withVersion(this.codec.decode(JSON.parse(kv.value) as Resource), revision);
  }

  /** Decode for a list, a watch or a delete: an object the codec refuses is shown as the codec marks it. */
  decodeListed(kv: KeyValue, revision = kv.modRevision): Resource {
    return withVersion(decodeListed(this.codec, JSON.parse(kv.value) as Resource), revision);
  }

  /** What a read of a just-written value shows (a Secret's stringData folded into data), at `revision`. */
  afterWrite(value: string, revision: number): Resource {
    return withVersion(this.codec.decode(JSON.parse(value) as Resource), revision);
  }

  isStale(kv: KeyValue): boolean {
    return this.codec.isStale?.(JSON.parse(kv.value) as Resource) === true;
  }
}

function withVersion(object: Resource, revision: number): Resource {
  object.metadata = { ...object.metadata, resourceVersion: String(revision) };
  return object;
}
