/**
 * The DatabaseUser controller (ADR 0046): gives each user its password Secret (generated, or copied from the Secret
 * it names once, checked against the password policy), labelled as an account of its component and owned by the
 * cluster so that `holdfast cluster rotate-password --account` rotates it as a system account; reports in status where
 * the node agents applied it; on deletion, holds the object until every instance that had it dropped it, then removes
 * the Secret. The node agents do the work on the servers (src/agent/managed-users.ts).
 */
import {
  DATABASE_USER_FINALIZER,
  DATABASE_USER_LABEL,
  databaseUserSecretName,
  engineNameFor,
  secretValue,
  type Cluster,
  type DatabaseUser,
  type DatabaseUserStatus,
  type Instance,
  type Secret,
} from "../../api/index.ts";
import { AlreadyExistsError, NotFoundError } from "../../errors/index.ts";
import { generatePassword, passwordPolicyProblem, type Engine } from "../../engines/index.ts";
import type { Store } from "../../store/index.ts";
import { LABEL_ACCOUNT, LABEL_INSTANCE, componentLabels, ownerReference, type EngineLookup } from "../cluster/index.ts";
import { splitKey, withFinalizer, withoutFinalizer, type EventRecorder, type ReconcileResult, type Reconciler } from "../runtime/index.ts";
import { remainingHolders, userStatus } from "./plan.ts";

/** How soon to look again while a user is being applied or dropped, and once it is in place. */
const SETTLING_MS = 1000;
const SETTLED_MS = 30_000;

export interface DatabaseUserReconcilerOptions {
  store: Store;
  engines: EngineLookup;
  events: EventRecorder;
}

export class DatabaseUserReconciler implements Reconciler {
  readonly #o: DatabaseUserReconcilerOptions;

  constructor(options: DatabaseUserReconcilerOptions) {
    this.#o = options;
  }

  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    const { namespace = "default", name } = splitKey(key);
    const user = await this.#o.store.get<DatabaseUser>({ kind: "DatabaseUser", namespace, name });
    if (user === undefined) return undefined;
    const instances = await this.#instances(user);
    if (user.metadata.deletionTimestamp !== undefined) return this.#delete(user, instances);
    const live = await withFinalizer(this.#o.store, user, DATABASE_USER_FINALIZER);
    const cluster = await this.#o.store.get<Cluster>({ kind: "Cluster", namespace, name: user.spec.clusterName });
    const engine = cluster === undefined ? undefined : this.#engineOf(cluster, user.spec.componentName);
    if (cluster === undefined || engine?.users === undefined) {
      const message = cluster === undefined ? `cluster ${user.spec.clusterName} not found` : `component ${user.spec.componentName} has no engine with managed users`;
      await this.#setStatus(live, { phase: "Failed", message });
      return { requeueAfterMs: SETTLED_MS };
    }
    const problem = await this.#ensureSecret(live, cluster);
    const status: DatabaseUserStatus = problem === undefined ? userStatus(live, instances, engine.users.scope, databaseUserSecretName(live)) : { phase: "Failed", message: problem };
    await this.#setStatus(live, status);
    return { requeueAfterMs: status.phase === "Ready" ? SETTLED_MS : SETTLING_MS };
  }

  async #instances(user: DatabaseUser): Promise<Instance[]> {
    const list = await this.#o.store.list<Instance>("Instance", { namespace: user.metadata.namespace ?? "default", labelSelector: `${LABEL_INSTANCE}=${user.spec.clusterName}` });
    return list.items;
  }

  #engineOf(cluster: Cluster, component: string): Engine | undefined {
    const spec = cluster.spec.componentSpecs.find((c) => c.name === component);
    const name = spec === undefined ? undefined : engineNameFor(cluster, spec, this.#o.engines.list().map((e) => e.name));
    return name === undefined ? undefined : this.#o.engines.find(name);
  }

  /** The password the user's Secret starts with: the one it names (policy-checked), else a generated one. */
  async #initialPassword(user: DatabaseUser): Promise<{ password: string } | { problem: string }> {
    const ref = user.spec.passwordSecretRef;
    if (ref === undefined) return { password: generatePassword() };
    const given = await this.#o.store.get<Secret>({ kind: "Secret", namespace: user.metadata.namespace ?? "default", name: ref.name });
    const value = secretValue(given, ref.key);
    if (value === undefined) return { problem: `secret ${ref.name} has no key ${ref.key}` };
    const problem = passwordPolicyProblem(value);
    return problem === undefined ? { password: value } : { problem: `the password in secret ${ref.name} key ${ref.key} ${problem}` };
  }

  /** Create the user's Secret if it has none; why it cannot, or undefined. */
  async #ensureSecret(user: DatabaseUser, cluster: Cluster): Promise<string | undefined> {
    const name = databaseUserSecretName(user);
    const namespace = user.metadata.namespace ?? "default";
    const existing = await this.#o.store.get<Secret>({ kind: "Secret", namespace, name });
    if (existing !== undefined) return existing.metadata.labels?.[DATABASE_USER_LABEL] === user.metadata.name ? undefined : `secret ${name} exists and is not this user's: delete or rename it`;
    const initial = await this.#initialPassword(user);
    if ("problem" in initial) return initial.problem;
    const secret: Secret = {
      apiVersion: "v1",
      kind: "Secret",
      type: "Opaque",
      metadata: {
        name,
        namespace,
        labels: { ...componentLabels(cluster.metadata.name, user.spec.componentName), [LABEL_ACCOUNT]: user.spec.username, [DATABASE_USER_LABEL]: user.metadata.name },
        // Owned by the cluster: its rotation takes the account up, and its deletion takes the Secret away.
        ownerReferences: [ownerReference(cluster)],
      },
      data: { username: Buffer.from(user.spec.username).toString("base64"), password: Buffer.from(initial.password).toString("base64") },
    };
    try {
      await this.#o.store.create(secret);
      await this.#o.events.record(user, "Normal", "SecretCreated", `secret ${name} holds the password of ${user.spec.username}${user.spec.passwordSecretRef === undefined ? " (generated)" : ` (from secret ${user.spec.passwordSecretRef.name})`}`);
    } catch (error) {
      if (!(error instanceof AlreadyExistsError)) throw error;
    }
    return undefined;
  }

  /** Hold the user until every instance that had it dropped it; then remove its Secret and let it go. */
  async #delete(user: DatabaseUser, instances: readonly Instance[]): Promise<ReconcileResult | undefined> {
    const { holding, stopped } = remainingHolders(user, instances);
    if (holding.length > 0) {
      const waiting = stopped.length === 0 ? "" : `; ${stopped.join(", ")} not running: dropped when it runs again, or delete the instance`;
      await this.#setStatus(user, { phase: "Deleting", message: `dropping ${user.spec.username} on ${holding.join(", ")}${waiting}` });
      return { requeueAfterMs: SETTLING_MS };
    }
    const name = databaseUserSecretName(user);
    await this.#o.store.delete({ kind: "Secret", namespace: user.metadata.namespace ?? "default", name }).catch((error: unknown) => {
      if (!(error instanceof NotFoundError)) throw error;
    });
    await this.#o.events.record(user, "Normal", "Dropped", `${user.spec.username} dropped from its servers; secret ${name} removed`);
    await withoutFinalizer(this.#o.store, user, DATABASE_USER_FINALIZER);
    return undefined;
  }

  async #setStatus(user: DatabaseUser, status: DatabaseUserStatus): Promise<void> {
    const next = { ...user.status, ...status };
    if (status.phase !== "Ready" && status.phase !== "Pending") delete next.appliedOn;
    if (JSON.stringify(next) === JSON.stringify(user.status)) return;
    const updated = await this.#o.store.updateStatus<DatabaseUser>({ ...user, status: next });
    if (status.phase !== user.status?.phase && (status.phase === "Ready" || status.phase === "Failed")) {
      await this.#o.events.record(updated, status.phase === "Ready" ? "Normal" : "Warning", status.phase === "Ready" ? "Applied" : "Failed", status.message ?? "");
    }
  }
}
