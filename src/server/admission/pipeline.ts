/** The admission pipeline: generic checks shared by every kind, then the kind's own admitter. */
import { apiVersionOf, fieldNotes, objectNameProblem, pruneUnknownFields, type KindInfo, type Resource } from "../../api/index.ts";
import { ForbiddenError, InputError, InvalidError, type FieldCause } from "../../errors/index.ts";
import { MethodNotAllowedError } from "../http-errors.ts";
import { referenceCauses, type ObjectReference } from "./references.ts";
import { issuesToCauses } from "./zod-causes.ts";
import type { AdmissionContext, AdmitterRegistry, KindAdmitter, WriteTarget } from "./types.ts";

/** Validates and defaults writes, and checks deletes, before they reach the store. */
export interface Admission {
  /** The object to store for a create (old undefined) or an update; throws a Holdfast error to refuse. */
  admitWrite(target: WriteTarget, body: unknown, old: Resource | undefined): Promise<Resource>;
  /** Throws to refuse deleting `object`. */
  admitDelete(kind: KindInfo, object: Resource): Promise<void>;
}

// Fields the store owns: a client cannot choose them on create.
const SERVER_OWNED = ["uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp"] as const;

/** Build the pipeline over a registry of admitters. */
export function createAdmission(context: AdmissionContext, registry: AdmitterRegistry): Admission {
  const admitterOf = (kind: KindInfo): KindAdmitter => registry.get(kind.kind) ?? {};
  return {
    async admitWrite(target, body, old) {
      const admitter = admitterOf(target.kind);
      if (admitter.readOnly !== undefined) throw new MethodNotAllowedError(admitter.readOnly, { subject: subjectOf(target.kind) });
      const parsed = parse(admitter, target.kind, knownFieldsOnly(admitter, target, withTypeAndIdentity(target, body, old)));
      const object = admitter.normalize ? admitter.normalize(parsed, old) : parsed;
      if (old === undefined && target.kind.namespaced) await requireNamespace(context, object);
      if (target.subresource === "status") return object;
      await checkReferences(admitter, { object, old }, target, context);
      const causes = [...fieldNoteCauses(admitter, object, target), ...(admitter.validate ? await admitter.validate(object, old, context) : [])];
      if (causes.length > 0) throw invalid(target.kind, object.metadata.name, causes);
      if (admitter.checkRequester && target.requester) await admitter.checkRequester(object, target.requester, context);
      return object;
    },
    async admitDelete(kind, object) {
      const admitter = admitterOf(kind);
      if (admitter.readOnly !== undefined) throw new MethodNotAllowedError(admitter.readOnly, { subject: subjectOf(kind) });
      await admitter.validateDelete?.(object, context);
    },
  };
}

/** Refuse a write whose new references name objects the requester may not read, or that do not exist (references.ts). */
async function checkReferences(admitter: KindAdmitter, write: { object: Resource; old: Resource | undefined }, target: WriteTarget, context: AdmissionContext): Promise<void> {
  if (admitter.references === undefined || target.requester === undefined) return;
  const causes = await referenceCauses(admitter.references(write.object), previousReferences(admitter, write.old), target.requester, context);
  if (causes.length > 0) throw invalid(target.kind, write.object.metadata.name, causes);
}

/** What the stored object already named; none (so every reference is checked) when it cannot be read as its kind. */
function previousReferences(admitter: KindAdmitter, old: Resource | undefined): ObjectReference[] {
  if (old === undefined || admitter.references === undefined) return [];
  try {
    return admitter.references(old);
  } catch {
    return [];
  }
}

function subjectOf(kind: KindInfo, name?: string): { kind: string; group: string; name?: string } {
  return name === undefined ? { kind: kind.kind, group: kind.group } : { kind: kind.kind, group: kind.group, name };
}

function qualified(kind: KindInfo): string {
  return kind.group === "" ? kind.kind : `${kind.kind}.${kind.group}`;
}

/** An InvalidError in Kubernetes' words: `Cluster.apps.kubeblocks.io "pg" is invalid: [field: message, ...]`. */
export function invalid(kind: KindInfo, name: string | undefined, causes: FieldCause[]): InvalidError {
  const list = causes.map((c) => `${c.field}: ${c.message}`).join(", ");
  return new InvalidError(`${qualified(kind)} ${JSON.stringify(name ?? "")} is invalid: [${list}]`, { subject: subjectOf(kind, name), causes });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Check apiVersion/kind against the path (filling them when absent) and take namespace and name from the path. */
function withTypeAndIdentity(target: WriteTarget, body: unknown, old: Resource | undefined): Record<string, unknown> {
  if (!isRecord(body)) throw new InputError("the request body must be a JSON object");
  const { kind } = target;
  const apiVersion = body["apiVersion"] ?? apiVersionOf(kind);
  const bodyKind = body["kind"] ?? kind.kind;
  if (apiVersion !== apiVersionOf(kind) || bodyKind !== kind.kind) {
    throw new InputError(`the body is ${JSON.stringify(bodyKind)} ${JSON.stringify(apiVersion)} but the path is for ${kind.kind} ${apiVersionOf(kind)}; send it to the path of its kind`);
  }
  const given = isRecord(body["metadata"]) ? body["metadata"] : {};
  // A cluster-scoped object has no namespace, whatever the body says.
  const dropped = [...(old === undefined ? SERVER_OWNED : []), ...(kind.namespaced ? [] : ["namespace"])];
  const metadata = withoutKeys(given, dropped);
  applyNamespace(kind, metadata, target.namespace);
  applyName(metadata, target.name);
  // Status belongs to the controllers; a create starts without one.
  const rest = old === undefined ? withoutKeys(body, ["status"]) : body;
  return { ...rest, apiVersion: apiVersionOf(kind), kind: kind.kind, metadata };
}

function withoutKeys(object: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(object).filter(([key]) => !keys.includes(key)));
}

function applyNamespace(kind: KindInfo, metadata: Record<string, unknown>, pathNamespace: string | undefined): void {
  if (!kind.namespaced) return;
  const given = metadata["namespace"];
  if (given !== undefined && given !== pathNamespace) {
    throw new InputError(`the namespace of the object (${JSON.stringify(given)}) does not match the namespace of the request (${String(pathNamespace)})`);
  }
  metadata["namespace"] = pathNamespace;
}

function applyName(metadata: Record<string, unknown>, pathName: string | undefined): void {
  if (pathName === undefined) return;
  const given = metadata["name"];
  if (given !== undefined && given !== pathName) {
    throw new InputError(`the name of the object (${JSON.stringify(given)}) does not match the name in the path (${pathName})`);
  }
  metadata["name"] = pathName;
}

/** Fields set and refused (causes), and fields set and not honoured (added to the write's warnings), from the schema's notes. */
function fieldNoteCauses(admitter: KindAdmitter, object: Resource, target: WriteTarget): FieldCause[] {
  const notes = admitter.schema ? fieldNotes(admitter.schema, withoutKeys(object, ["status"])) : [];
  target.warnings?.push(...notes.filter((n) => n.support === "reported").map((n) => `${n.field}: ${n.message}`));
  return notes.filter((n) => n.support === "refused").map((n) => ({ field: n.field, reason: "FieldValueForbidden", message: `Forbidden: ${n.message}` }));
}

/**
 * The object without the fields its kind does not have (Kubernetes' pruning); Strict refuses them instead, Warn
 * names them in the warnings. Only what the write changes is looked at: the status of a status write, else the rest.
 */
function knownFieldsOnly(admitter: KindAdmitter, target: WriteTarget, object: Record<string, unknown>): Record<string, unknown> {
  if (!admitter.schema || target.fieldValidation === undefined) return object;
  const keys = Object.keys(object).filter((key) => (key === "status") === (target.subresource === "status"));
  const written = Object.fromEntries(keys.map((key) => [key, object[key]]));
  const { value, unknown } = pruneUnknownFields(admitter.schema, written);
  if (unknown.length === 0) return object;
  const named = unknown.map((field) => `unknown field ${JSON.stringify(field)}`);
  if (target.fieldValidation === "Strict") {
    throw new InputError(`strict decoding error: ${named.join(", ")}`, { subject: subjectOf(target.kind, target.name), causes: unknown.map((field) => ({ field, reason: "FieldValueInvalid", message: "unknown field" })) });
  }
  if (target.fieldValidation === "Warn") target.warnings?.push(...named);
  return { ...withoutKeys(object, keys), ...(value as Record<string, unknown>) };
}

/** Parse with the kind's schema; a kind without one only needs a name. */
function parse(admitter: KindAdmitter, kind: KindInfo, object: Record<string, unknown>): Resource {
  const metadata = object["metadata"] as Record<string, unknown>;
  const name = typeof metadata["name"] === "string" ? metadata["name"] : undefined;
  if (!admitter.schema) {
    if (name === undefined) throw invalid(kind, name, [{ field: "metadata.name", reason: "FieldValueRequired", message: "Required value" }]);
    const problem = objectNameProblem(kind, name);
    if (problem !== undefined) throw invalid(kind, name, [{ field: "metadata.name", reason: "FieldValueInvalid", message: problem }]);
    return { ...object, apiVersion: apiVersionOf(kind), kind: kind.kind, metadata: { ...metadata, name } };
  }
  const result = admitter.schema.safeParse(object, { reportInput: true });
  if (result.success) return result.data as Resource;
  throw invalid(kind, name, issuesToCauses(result.error.issues, admitter.schema, { hideValues: admitter.sensitive === true }));
}

async function requireNamespace(context: AdmissionContext, object: Resource): Promise<void> {
  const name = object.metadata.namespace ?? "";
  const namespace = await context.store.get({ kind: "Namespace", name });
  if (namespace === undefined) {
    throw new InvalidError(`namespace ${name} does not exist; create it first with: holdfast create namespace ${name}`, {
      subject: { kind: "Namespace", name },
      causes: [{ field: "metadata.namespace", reason: "FieldValueNotFound", message: `Not found: ${JSON.stringify(name)}: create it with holdfast create namespace ${name}` }],
    });
  }
  if (namespace.metadata.deletionTimestamp !== undefined) {
    throw new ForbiddenError(`namespace ${name} is being deleted; new objects cannot be created in it`, { subject: { kind: "Namespace", name } });
  }
}
