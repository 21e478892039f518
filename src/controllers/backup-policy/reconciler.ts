/** Creates the BackupPolicy of every cluster component whose engine can back up, as KubeBlocks does; owned by the cluster. */
import { accountSecretName, componentTopology, engineNameFor, type BackupPolicy, type Cluster } from "../../api/index.ts";
import { desiredBackupPolicy } from "../../dataprotection/index.ts";
import { AlreadyExistsError } from "../../errors/index.ts";
import type { Engine } from "../../engines/index.ts";
import type { Store } from "../../store/index.ts";
import { LABEL_COMPONENT, LABEL_INSTANCE, type EngineLookup } from "../cluster/index.ts";
import { splitKey, type EventRecorder, type ReconcileResult, type Reconciler } from "../runtime/index.ts";

export interface BackupPolicyReconcilerOptions {
  store: Store;
  engines: Pick<EngineLookup, "list" | "find">;
  events: EventRecorder;
}

/** Policies are created once and then left to the user: changes made to them are kept. */
export class BackupPolicyReconciler implements Reconciler {
  readonly #o: BackupPolicyReconcilerOptions;

  constructor(options: BackupPolicyReconcilerOptions) {
    this.#o = options;
  }

  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    const { namespace = "default", name } = splitKey(key);
    const cluster = await this.#o.store.get<Cluster>({ kind: "Cluster", namespace, name });
    if (cluster === undefined || cluster.metadata.deletionTimestamp !== undefined || cluster.metadata.uid === undefined) return undefined;
    for (const policy of desiredPolicies(cluster, this.#o.engines)) {
      const existing = await this.#o.store.get<BackupPolicy>({ kind: "BackupPolicy", namespace, name: policy.metadata.name });
      const live = existing ?? (await this.#create(cluster, policy));
      if (live !== undefined && live.status?.phase === undefined) await this.#o.store.updateStatus<BackupPolicy>({ ...live, status: { phase: "Available", observedGeneration: live.metadata.generation ?? 1 } });
    }
    return undefined;
  }

  async #create(cluster: Cluster, policy: BackupPolicy): Promise<BackupPolicy | undefined> {
    try {
      const created = await this.#o.store.create(policy);
      await this.#o.events.record(cluster, "Normal", "BackupPolicyCreated", `created BackupPolicy ${policy.metadata.name}`);
      return created;
    } catch (error) {
      if (error instanceof AlreadyExistsError) return undefined;
      throw error;
    }
  }
}

/** Is `component` an arbiter (Redis Sentinel) in the cluster's topology? It holds no data to back up. */
function isArbiter(engine: Engine, cluster: Cluster, component: string): boolean {
  return componentTopology(cluster, engine, component)?.arbiterOf !== undefined;
}

/** One policy per component whose engine has backup methods (pure). */
export function desiredPolicies(cluster: Cluster, engines: Pick<EngineLookup, "list" | "find">): BackupPolicy[] {
  const known = engines.list().map((engine) => engine.name);
  return cluster.spec.componentSpecs.flatMap((component) => {
    const engineName = engineNameFor(cluster, component, known);
    const engine = engineName === undefined ? undefined : engines.find(engineName);
    // The engine's backup account when it has one (least privilege), else its administrator.
    const account = engine?.backupAccount ?? engine?.systemAccounts[0]?.name;
    if (engine === undefined || account === undefined || engine.backupMethods.length === 0 || isArbiter(engine, cluster, component.name)) return [];
    const selector = { [LABEL_INSTANCE]: cluster.metadata.name, [LABEL_COMPONENT]: component.name };
    const secret = accountSecretName(cluster.metadata.name, component.name, account);
    return [desiredBackupPolicy(cluster, { name: component.name, methods: engine.backupMethods }, secret, selector)];
  });
}


