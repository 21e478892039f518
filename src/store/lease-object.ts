/** A lease as a `coordination.k8s.io/v1` Lease object, as Kubernetes shows leader election. */
import type { Resource } from "../api/index.ts";
import type { LeaseRecord } from "./leases.ts";

/** Leases live in this namespace. */
export const LEASE_NAMESPACE = "holdfast-system";

/** The Lease object of one acquisition at one renewal. */
export interface LeaseSpec {
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime: string;
  renewTime: string;
  leaseTransitions: number;
}

/** The Lease object (without server-owned metadata) for `spec`. */
export function leaseObject(name: string, spec: LeaseSpec): Resource {
  return { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { namespace: LEASE_NAMESPACE, name }, spec: { ...spec } };
}

/** Lease durations are whole seconds in the object (and in etcd's TTL), at least one. */
export function leaseSeconds(durationMs: number): number {
  return Math.max(1, Math.ceil(durationMs / 1000));
}

/** What anyone may read of a lease object. */
export function leaseRecordOf(object: Resource): LeaseRecord {
  const spec = object.spec as Partial<LeaseSpec> | undefined;
  return {
    name: object.metadata.name,
    holder: spec?.holderIdentity ?? "",
    durationMs: (spec?.leaseDurationSeconds ?? 0) * 1000,
    acquireTime: spec?.acquireTime ?? "",
    renewTime: spec?.renewTime ?? "",
    transitions: spec?.leaseTransitions ?? 0,
  };
}
