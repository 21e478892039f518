/**
 * Cross-object references, authorized as the requester. An object that names another (a Cluster restored from a
 * Backup, a BackupRepo's credential Secret, a Backup's BackupPolicy) makes the control plane read that other object
 * on its behalf, so writing the reference needs `get` on what it names. A reference the requester may not read gets
 * the same answer as one to an object that does not exist, so it cannot be used to learn what exists elsewhere.
 */
import { mustKind } from "../../api/index.ts";
import type { FieldCause } from "../../errors/index.ts";
import type { Requester } from "../../security/index.ts";
import type { AdmissionContext } from "./types.ts";

/** An object named by another, and the answer when it is missing (or not the requester's to read). */
export interface ObjectReference {
  kind: string;
  /** Undefined for cluster-scoped kinds. */
  namespace?: string | undefined;
  name: string;
  /** The field naming it, FieldValueNotFound, and a message saying how to find the right name. */
  cause: FieldCause;
}

/** The usual cause of a reference: `Not found: backup demo/nightly: <hint>`. */
export function notFoundCause(field: string, what: string, hint: string): FieldCause {
  return { field, reason: "FieldValueNotFound", message: `Not found: ${what}: ${hint}` };
}

/** Identity of a reference, to compare old and new objects. */
function keyOf(reference: ObjectReference): string {
  return JSON.stringify([reference.kind, reference.namespace ?? "", reference.name]);
}

/**
 * Causes for the references the requester may not read or that do not exist, one answer for both. Only references
 * the stored object (`previous`) did not already make are checked: an unchanged reference was authorized when written.
 */
export async function referenceCauses(references: readonly ObjectReference[], previous: readonly ObjectReference[], requester: Requester, context: AdmissionContext): Promise<FieldCause[]> {
  const known = new Set(previous.map(keyOf));
  const checked = new Set<string>();
  const causes: FieldCause[] = [];
  for (const reference of references) {
    const key = keyOf(reference);
    if (known.has(key) || checked.has(key)) continue;
    checked.add(key);
    if (!(await readable(reference, requester, context))) causes.push(reference.cause);
  }
  return causes;
}

async function readable(reference: ObjectReference, requester: Requester, context: AdmissionContext): Promise<boolean> {
  const kind = mustKind(reference.kind);
  const namespace = kind.namespaced ? reference.namespace : undefined;
  const attributes = { verb: "get", apiGroup: kind.group, resource: kind.plural, name: reference.name, ...(namespace === undefined ? {} : { namespace }) };
  // Authorize first: the store is not even asked about an object the requester may not see.
  if (!(await context.authorizer.authorize(requester, attributes)).allowed) return false;
  const ref = namespace === undefined ? { kind: kind.kind, name: reference.name } : { kind: kind.kind, namespace, name: reference.name };
  return (await context.store.get(ref)) !== undefined;
}
