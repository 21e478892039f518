/**
 * Admission of DatabaseUser (ADR 0046): the cluster and component exist and their engine has managed users, the name
 * is none of Holdfast's or the engine's own accounts and no other DatabaseUser's, the grants are what the engine
 * types, the user-given password meets the policy; the cluster, component and name are immutable.
 */
import { componentTopology, engineNameFor, secretValue, type Cluster, type DatabaseUser, type Secret } from "../../api/index.ts";
import { passwordPolicyProblem, type Engine } from "../../engines/index.ts";
import type { FieldCause } from "../../errors/index.ts";
import type { EngineDirectory } from "./cluster-rules.ts";
import type { AdmissionContext } from "./types.ts";

/** Holdfast's own accounts are named kb…, as KubeBlocks names them. */
const RESERVED_PREFIX = "kb";

/** The accounts Holdfast keeps in every component of `engine` (pure). */
export function engineAccounts(engine: Engine): string[] {
  const names = [...engine.systemAccounts.map((a) => a.name), engine.replication?.account.name, engine.replication?.arbiter?.account.name, engine.exporter?.account.name];
  return names.filter((n): n is string => n !== undefined);
}

/** Why `username` cannot be a managed user of `engine`, or undefined (pure). */
export function reservedUsernameProblem(engine: Engine, username: string): string | undefined {
  if (engineAccounts(engine).includes(username)) return `${username} is a system account of ${engine.name}; rotate it with holdfast cluster rotate-password`;
  if (username.startsWith(RESERVED_PREFIX)) return `names starting with ${RESERVED_PREFIX} are reserved for Holdfast's accounts`;
  return engine.users?.usernameProblem(username);
}

/**
 * The engine of data component `component` in `cluster` when it has what `lacks` does not object to, or why not as a
 * cause on `spec.componentName` (pure): an unknown component, an engine lacking the feature, an arbiter (no data).
 */
export function dataComponentEngine(cluster: Cluster, component: string, engines: EngineDirectory, lacks: (engine: Engine | undefined) => string | undefined): Engine | FieldCause {
  const spec = cluster.spec.componentSpecs.find((c) => c.name === component);
  if (spec === undefined) {
    const names = cluster.spec.componentSpecs.map((c) => c.name).join(", ");
    return { field: "spec.componentName", reason: "FieldValueNotFound", message: `Not found: component ${component} in cluster ${cluster.metadata.name}; it has ${names}` };
  }
  const name = engineNameFor(cluster, spec, engines.list().map((e) => e.name));
  const engine = name === undefined ? undefined : engines.find(name);
  const lacking = lacks(engine);
  if (engine === undefined || lacking !== undefined) return { field: "spec.componentName", reason: "FieldValueNotSupported", message: `Unsupported value: component ${component} runs ${name ?? "an unknown engine"}, which ${lacking ?? "is unknown"}` };
  const arbiterOf = componentTopology(cluster, engine, component)?.arbiterOf;
  if (arbiterOf !== undefined) return { field: "spec.componentName", reason: "FieldValueNotSupported", message: `Unsupported value: component ${component} arbitrates ${arbiterOf} and serves no data; name ${arbiterOf}` };
  return engine;
}

/** The engine of `component` in `cluster`, or why there is none as a cause. */
function componentEngine(cluster: Cluster, component: string, engines: EngineDirectory): Engine | FieldCause {
  return dataComponentEngine(cluster, component, engines, (engine) => (engine?.users === undefined ? "has no managed users yet" : undefined));
}

/** Causes from the spec against the cluster's engine (pure). */
export function databaseUserCauses(user: DatabaseUser, cluster: Cluster, engines: EngineDirectory): FieldCause[] {
  const engine = componentEngine(cluster, user.spec.componentName, engines);
  if (!("name" in engine)) return [engine];
  const causes: FieldCause[] = [];
  const reserved = reservedUsernameProblem(engine, user.spec.username);
  if (reserved !== undefined) causes.push({ field: "spec.username", reason: "FieldValueInvalid", message: `Invalid value: ${reserved}` });
  for (const problem of engine.users?.grantProblems(user.spec.grants) ?? []) causes.push({ field: `spec.grants${problem.path}`, reason: "FieldValueInvalid", message: `Invalid value: ${problem.message}` });
  return causes;
}

/** The cluster, component and username cannot change: the user's Secret and server account are made for them (pure). */
export function immutableCauses(user: DatabaseUser, old: DatabaseUser | undefined): FieldCause[] {
  if (old === undefined) return [];
  const fields = ["clusterName", "componentName", "username"] as const;
  return fields
    .filter((f) => user.spec[f] !== old.spec[f])
    .map((f) => ({ field: `spec.${f}`, reason: "FieldValueInvalid", message: "Invalid value: field is immutable; delete the DatabaseUser (its user is dropped) and create another" }));
}

/** Another DatabaseUser of the namespace has the same account on the same component. */
async function duplicateCauses(user: DatabaseUser, context: AdmissionContext): Promise<FieldCause[]> {
  const namespace = user.metadata.namespace ?? "default";
  const others = (await context.store.list<DatabaseUser>("DatabaseUser", { namespace })).items;
  const same = others.find((o) => o.metadata.name !== user.metadata.name && o.spec.clusterName === user.spec.clusterName && o.spec.componentName === user.spec.componentName && o.spec.username === user.spec.username);
  return same === undefined ? [] : [{ field: "spec.username", reason: "FieldValueDuplicate", message: `Duplicate value: databaseuser ${same.metadata.name} already manages ${user.spec.username} on ${user.spec.clusterName}/${user.spec.componentName}` }];
}

/** The user-given password (read once, at creation): present under its key and meeting the policy. Never repeats it. */
async function passwordCauses(user: DatabaseUser, context: AdmissionContext): Promise<FieldCause[]> {
  const ref = user.spec.passwordSecretRef;
  if (ref === undefined) return [];
  const given = await context.store.get<Secret>({ kind: "Secret", namespace: user.metadata.namespace ?? "default", name: ref.name });
  // A missing Secret is the references' cause.
  if (given === undefined) return [];
  const value = secretValue(given, ref.key);
  if (value === undefined) return [{ field: "spec.passwordSecretRef.key", reason: "FieldValueNotFound", message: `Not found: secret ${ref.name} has no key ${ref.key}` }];
  const problem = passwordPolicyProblem(value);
  return problem === undefined ? [] : [{ field: "spec.passwordSecretRef", reason: "FieldValueInvalid", message: `Invalid value: the password in secret ${ref.name} key ${ref.key} ${problem}` }];
}

/** Every cause of a DatabaseUser write. */
export async function databaseUserWriteCauses(user: DatabaseUser, old: DatabaseUser | undefined, context: AdmissionContext): Promise<FieldCause[]> {
  const immutable = immutableCauses(user, old);
  if (immutable.length > 0) return immutable;
  const cluster = await context.store.get<Cluster>({ kind: "Cluster", namespace: user.metadata.namespace ?? "default", name: user.spec.clusterName });
  // A missing cluster is the references' cause; a user whose cluster is being deleted may still be deleted or changed.
  if (cluster === undefined) return [];
  const causes = databaseUserCauses(user, cluster, context.engines);
  if (old !== undefined) return causes;
  return [...causes, ...(await duplicateCauses(user, context)), ...(await passwordCauses(user, context))];
}
