/** Kubernetes object shapes shared by every resource kind. */

/** A reference from a dependent to its owner; deleting the owner deletes the dependent. */
export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean | undefined;
  blockOwnerDeletion?: boolean | undefined;
}

/** Standard object metadata (metav1.ObjectMeta, the fields Holdfast uses). */
export interface ObjectMeta {
  name: string;
  namespace?: string | undefined;
  uid?: string | undefined;
  resourceVersion?: string | undefined;
  generation?: number | undefined;
  creationTimestamp?: string | undefined;
  deletionTimestamp?: string | undefined;
  finalizers?: string[] | undefined;
  ownerReferences?: OwnerReference[] | undefined;
  labels?: Record<string, string> | undefined;
  annotations?: Record<string, string> | undefined;
}

/** A condition, as metav1.Condition. */
export interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number | undefined;
}

/** Any stored object. Kinds narrow `spec` and `status`. */
export interface Resource {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: unknown;
  status?: unknown;
  [field: string]: unknown;
}

/** A typed resource. */
export interface TypedResource<Spec, Status> extends Resource {
  spec: Spec;
  status?: Status | undefined;
}

/** Identifies one object. `namespace` is absent for cluster-scoped kinds. */
export interface ObjectRef {
  kind: string;
  namespace?: string | undefined;
  name: string;
}

/** A Kubernetes `Status` body returned for errors and some deletions. */
export interface StatusBody {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, never>;
  status: "Success" | "Failure";
  message: string;
  reason: string;
  code: number;
  details?: {
    name?: string;
    group?: string;
    kind?: string;
    causes?: { reason?: string; message: string; field: string }[];
  };
}

/** The current time as Kubernetes writes timestamps (RFC 3339, seconds precision kept as ms). */
export function now(): string {
  return new Date().toISOString();
}
