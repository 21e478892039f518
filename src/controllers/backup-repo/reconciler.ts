/** Checks that each BackupRepo can be reached and reports it in status (KubeBlocks' PreChecking → Ready or Failed). */
import { isDefaultRepo, type BackupRepo, type BackupRepoStatus } from "../../api/index.ts";
import { MANIFESTS_PREFIX_FOR_CHECK, openRepository } from "../../dataprotection/index.ts";
import { errorMessage } from "../../errors/index.ts";
import type { Store } from "../../store/index.ts";
import { setCondition, splitKey, type EventRecorder, type ReconcileResult, type Reconciler } from "../runtime/index.ts";

/** Repositories are checked again this often (credentials expire, disks go away). */
const RECHECK_MS = 5 * 60_000;

export interface BackupRepoReconcilerOptions {
  store: Store;
  events: EventRecorder;
}

export class BackupRepoReconciler implements Reconciler {
  readonly #o: BackupRepoReconcilerOptions;

  constructor(options: BackupRepoReconcilerOptions) {
    this.#o = options;
  }

  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    const repo = await this.#o.store.get<BackupRepo>({ kind: "BackupRepo", name: splitKey(key).name });
    if (repo === undefined || repo.metadata.deletionTimestamp !== undefined) return undefined;
    const problem = await this.#check(repo);
    const next = statusAfterCheck(repo, problem);
    if (JSON.stringify(next) !== JSON.stringify(repo.status)) {
      const updated = await this.#o.store.updateStatus<BackupRepo>({ ...repo, status: next });
      if (problem !== undefined && repo.status?.phase !== "Failed") await this.#o.events.record(updated, "Warning", "PreCheckFailed", problem);
    }
    return { requeueAfterMs: RECHECK_MS };
  }

  /** Why the repository cannot be used, or undefined when it can be opened and listed. */
  async #check(repo: BackupRepo): Promise<string | undefined> {
    try {
      const repository = await openRepository(repo, this.#o.store);
      for await (const _object of repository.list(MANIFESTS_PREFIX_FOR_CHECK)) break;
      return undefined;
    } catch (error) {
      return errorMessage(error);
    }
  }
}

/** The status a check leads to (pure). */
export function statusAfterCheck(repo: BackupRepo, problem: string | undefined): BackupRepoStatus {
  const ok = problem === undefined;
  return {
    ...repo.status,
    phase: ok ? "Ready" : "Failed",
    isDefault: isDefaultRepo(repo),
    ...(repo.metadata.generation === undefined ? {} : { observedGeneration: repo.metadata.generation }),
    conditions: setCondition(repo.status?.conditions, {
      type: "PreCheckPassed",
      status: ok ? "True" : "False",
      reason: ok ? "PreCheckPassed" : "PreCheckFailed",
      message: problem ?? `the ${repo.spec.storageProviderRef} repository can be listed`,
    }),
  };
}
