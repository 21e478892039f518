/**
 * Where everything lives in etcd, under one prefix (default `/holdfast/`), as Kubernetes lays out its registry:
 * - `registry/<kind>/<namespace>/<name>` (namespaced) or `registry/<kind>/<name>` (cluster-scoped): an object;
 * - `owners/<ownerUid>/<kind>/<namespace>/<name>`: "this object names that uid as an owner" (the cascade's index);
 * - `gc/<uid>`: an owner removed whose dependents are still being collected (a crash resumes it);
 * - `leases/<name>`: a lease's transition count and last holder (the Lease object itself is in the registry);
 * - `meta/<name>`: bookkeeping (how far history was compacted).
 */
import type { ObjectKey } from "../object-rules.ts";

/** The default prefix of every key the store writes. */
export const DEFAULT_ETCD_PREFIX = "/holdfast/";

/** Key names under one prefix. */
export class KeyLayout {
  readonly prefix: string;

  constructor(prefix: string = DEFAULT_ETCD_PREFIX) {
    this.prefix = prefix.endsWith("/") ? prefix : `${prefix}/`;
  }

  registry(): string {
    return `${this.prefix}registry/`;
  }

  object(key: ObjectKey): string {
    return key.namespace === "" ? `${this.registry()}${key.kind}/${key.name}` : `${this.registry()}${key.kind}/${key.namespace}/${key.name}`;
  }

  /** Every object of a kind, or of a kind in one namespace. */
  kind(kind: string, namespace?: string): string {
    return namespace === undefined || namespace === "" ? `${this.registry()}${kind}/` : `${this.registry()}${kind}/${namespace}/`;
  }

  owners(ownerUid: string): string {
    return `${this.prefix}owners/${ownerUid}/`;
  }

  ownerEntry(ownerUid: string, dependent: ObjectKey): string {
    return `${this.owners(ownerUid)}${dependent.kind}/${dependent.namespace}/${dependent.name}`;
  }

  garbage(): string {
    return `${this.prefix}gc/`;
  }

  garbageMarker(uid: string): string {
    return `${this.garbage()}${uid}`;
  }

  leaseRecord(name: string): string {
    return `${this.prefix}leases/${name}`;
  }

  meta(name: string): string {
    return `${this.prefix}meta/${name}`;
  }
}
