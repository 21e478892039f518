/** Creates or resets the built-in RBAC objects at server start, and binds administrators to cluster-admin. */
import { RBAC_API_VERSION, RBAC_GROUP, type ClusterRole, type ClusterRoleBinding, type Resource, type Subject } from "../../api/index.ts";
import { AlreadyExistsError, ConflictError } from "../../errors/index.ts";
import type { Store } from "../../store/index.ts";
import { AUTOUPDATE_ANNOTATION, BUILTIN_ROLE_NAMES, builtinClusterRoleBindings, builtinClusterRoles } from "./builtin-roles.ts";

/** The ClusterRoleBinding that `bindClusterAdmin` adds users to. */
export const CLUSTER_ADMINS_BINDING = "cluster-admins";
const ATTEMPTS = 5;

/**
 * Create the built-in ClusterRoles and ClusterRoleBindings, or reset them to this version's definition.
 * Idempotent. Objects annotated `rbac.authorization.kubernetes.io/autoupdate: "false"` are left alone;
 * subjects added to a built-in binding are kept.
 */
export async function ensureBuiltinRoles(store: Store): Promise<void> {
  for (const role of builtinClusterRoles()) await retryOnConflict(() => ensureRole(store, role));
  for (const binding of builtinClusterRoleBindings()) await retryOnConflict(() => ensureBinding(store, binding));
}

/** Make `username` a cluster administrator: add them to the `cluster-admins` ClusterRoleBinding (created when missing). */
export async function bindClusterAdmin(store: Store, username: string): Promise<ClusterRoleBinding> {
  const subject: Subject = { kind: "User", apiGroup: RBAC_GROUP, name: username };
  return retryOnConflict(async () => {
    const existing = await store.get<ClusterRoleBinding>({ kind: "ClusterRoleBinding", name: CLUSTER_ADMINS_BINDING });
    if (existing === undefined) {
      return store.create<ClusterRoleBinding>({
        apiVersion: RBAC_API_VERSION,
        kind: "ClusterRoleBinding",
        metadata: { name: CLUSTER_ADMINS_BINDING },
        roleRef: { apiGroup: RBAC_GROUP, kind: "ClusterRole", name: BUILTIN_ROLE_NAMES.clusterAdmin },
        subjects: [subject],
      });
    }
    const subjects = subjectsOf(existing);
    if (subjects.some((candidate) => sameSubject(candidate, subject))) return existing;
    return store.update<ClusterRoleBinding>({ ...existing, subjects: [...subjects, subject] });
  });
}

async function ensureRole(store: Store, wanted: ClusterRole): Promise<void> {
  const existing = await store.get<ClusterRole>({ kind: "ClusterRole", name: wanted.metadata.name });
  if (existing === undefined) {
    await store.create(wanted);
    return;
  }
  if (!autoUpdates(existing)) return;
  const upToDate = JSON.stringify(existing.rules) === JSON.stringify(wanted.rules) && existing.aggregationRule === undefined && hasMetadataOf(existing, wanted);
  if (upToDate) return;
  const next: ClusterRole = { ...existing, metadata: mergedMetadata(existing, wanted), rules: wanted.rules };
  delete next.aggregationRule;
  await store.update(next);
}

async function ensureBinding(store: Store, wanted: ClusterRoleBinding): Promise<void> {
  const ref = { kind: "ClusterRoleBinding", name: wanted.metadata.name };
  const existing = await store.get<ClusterRoleBinding>(ref);
  if (existing === undefined) {
    await store.create(wanted);
    return;
  }
  if (!autoUpdates(existing)) return;
  const subjects = subjectsOf(existing);
  const missing = wanted.subjects.filter((subject) => !subjects.some((candidate) => sameSubject(candidate, subject)));
  const roleRefChanged = JSON.stringify(existing.roleRef) !== JSON.stringify(wanted.roleRef);
  if (roleRefChanged) {
    // roleRef is immutable: replace the binding, as Kubernetes' reconciliation does.
    await store.delete(ref, existing.metadata.uid === undefined ? {} : { uid: existing.metadata.uid });
    await store.create({ ...wanted, subjects: [...subjects, ...missing] });
    return;
  }
  if (missing.length === 0 && hasMetadataOf(existing, wanted)) return;
  await store.update<ClusterRoleBinding>({ ...existing, metadata: mergedMetadata(existing, wanted), subjects: [...subjects, ...missing] });
}

function autoUpdates(object: Resource): boolean {
  return object.metadata.annotations?.[AUTOUPDATE_ANNOTATION] !== "false";
}

function mergedMetadata<T extends Resource>(existing: T, wanted: T): T["metadata"] {
  return {
    ...existing.metadata,
    labels: { ...existing.metadata.labels, ...wanted.metadata.labels },
    annotations: { ...existing.metadata.annotations, ...wanted.metadata.annotations },
  };
}

function hasMetadataOf(existing: Resource, wanted: Resource): boolean {
  const contains = (have: Record<string, string> | undefined, want: Record<string, string> | undefined): boolean =>
    Object.entries(want ?? {}).every(([key, value]) => have?.[key] === value);
  return contains(existing.metadata.labels, wanted.metadata.labels) && contains(existing.metadata.annotations, wanted.metadata.annotations);
}

// Stored bindings written around the API may lack subjects.
function subjectsOf(binding: ClusterRoleBinding): Subject[] {
  return [...((binding.subjects as Subject[] | undefined) ?? [])];
}

function sameSubject(a: Subject, b: Subject): boolean {
  return a.kind === b.kind && a.name === b.name && (a.namespace ?? "") === (b.namespace ?? "");
}

async function retryOnConflict<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work();
    } catch (error) {
      const retryable = error instanceof ConflictError || error instanceof AlreadyExistsError;
      if (!retryable || attempt >= ATTEMPTS) throw error;
    }
  }
}
