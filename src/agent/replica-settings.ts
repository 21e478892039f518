/**
 * A running replica whose start settings no longer fit its primary's (EngineReplication.settingsDrift; PostgreSQL: a
 * hot standby below its primary's max_connections and the like pauses its recovery) is restarted, so the engine's
 * start gives it the values that fit (ADR 0041, since 2026-12-07). One below its primary is restarted at once; one
 * running with more than it needs now (raised for a primary that has since lowered its own) only while every member of
 * its component is ready, so this restart never adds to a rolling restart or a role change under way.
 */
import { instanceNeedsRestart, type Instance } from "../api/index.ts";
import type { Credentials, EngineReplication, HostAccess, InstanceContext, ReplicaSettingsDrift } from "../engines/index.ts";
import type { Store } from "../store/index.ts";
import { componentSiblings } from "./instance-context.ts";

/** How often a ready replica's settings are compared with its primary's. */
export const SETTINGS_CHECK_EVERY_MS = 5000;
/** The soonest a replica is restarted again for its settings: a value set where a start cannot override it would loop. */
export const SETTINGS_RESTART_AT_MOST_EVERY_MS = 60_000;

/** What the check needs of one running instance. */
export interface ReplicaSettingsInput {
  instance: Instance;
  replication: EngineReplication | undefined;
  context: InstanceContext;
  host: HostAccess;
  /** The superuser's credentials, read only when a check is due. */
  admin: () => Promise<Credentials | undefined>;
}

/** Is `instance` a ready replica with nothing else pending that its settings may be checked? (pure) */
export function settingsCheckApplies(instance: Instance): boolean {
  const status = instance.status;
  return status?.ready === true && status.role === "secondary" && instance.spec.replication?.fenced !== true && !instanceNeedsRestart(instance);
}

/** May a restart for `drift` happen now: urgent, or nothing else of the component under way (`siblings` all settled)? (pure) */
export function mayRestartFor(drift: ReplicaSettingsDrift, siblings: readonly Instance[]): boolean {
  return drift.urgent || siblings.every((s) => s.status?.ready === true && !instanceNeedsRestart(s) && s.spec.replication?.fenced !== true);
}

function keyOf(instance: Instance): string {
  return `${instance.metadata.namespace ?? "default"}/${instance.metadata.name}`;
}

/** When each replica's settings were last checked and last restarted for; one per node agent. */
export class ReplicaSettingsWatch {
  readonly #checkedAt = new Map<string, number>();
  readonly #restartedAt = new Map<string, number>();
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  /** The drift to restart the replica for now, else undefined (not due, nothing to do, or to wait for). */
  async restartFor(input: ReplicaSettingsInput, nowMs = Date.now()): Promise<ReplicaSettingsDrift | undefined> {
    const key = keyOf(input.instance);
    if (input.replication?.settingsDrift === undefined || !settingsCheckApplies(input.instance)) return undefined;
    if (nowMs - (this.#checkedAt.get(key) ?? 0) < SETTINGS_CHECK_EVERY_MS || nowMs - (this.#restartedAt.get(key) ?? 0) < SETTINGS_RESTART_AT_MOST_EVERY_MS) return undefined;
    this.#checkedAt.set(key, nowMs);
    const admin = await input.admin();
    if (admin === undefined) return undefined;
    const drift = await input.replication.settingsDrift(input.context, admin, input.host);
    if (drift === undefined || !mayRestartFor(drift, (await componentSiblings(this.#store, input.instance)).filter((s) => s.metadata.deletionTimestamp === undefined))) return undefined;
    this.#restartedAt.set(key, nowMs);
    return drift;
  }

  forget(instance: Instance): void {
    this.#checkedAt.delete(keyOf(instance));
    this.#restartedAt.delete(keyOf(instance));
  }
}
