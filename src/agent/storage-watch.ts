/**
 * The storage quota of the instances on this node (ADR 0048): every few seconds (not on every pass: the walk reads each
 * file's metadata) the agent measures the bytes under an instance's root directory — data, WAL (PostgreSQL's pg_wal
 * and the spool of finished segments), configuration — against spec.storageQuota, reports it in status.storage, and
 * turns the engine's write protection on at the quota and off below it. A new instance whose quota cannot fit the
 * host's free disk is not created.
 */
import { now, quotaMisfit, type Instance } from "../api/index.ts";
import type { InstanceTrust } from "./instance-tls.ts";
import type { Credentials, Engine, HostAccess, InstanceContext } from "../engines/index.ts";
import { diskUsage, freeDiskBytes } from "../runtime/index.ts";
import { decideStorage } from "./storage-plan.ts";
import type { ReplicationReporter } from "./replicated-instance.ts";

/** How often an instance's storage is measured; more often from 90% of its quota on, to stop writes close to it. */
export const STORAGE_EVERY_MS = 2000;
export const STORAGE_NEAR_QUOTA_EVERY_MS = 500;

/** A running instance whose storage to tend. */
export interface StorageSubject {
  instance: Instance;
  engine: Engine;
  context: InstanceContext;
  host: HostAccess;
  admin: Credentials;
}

export class StorageWatch {
  readonly #trust: InstanceTrust;
  /** When each instance (by uid) was last measured. */
  readonly #measuredAt = new Map<string, number>();

  constructor(trust: InstanceTrust) {
    this.#trust = trust;
  }

  /** In how many ms the next measurement of this running instance is due (0: now). */
  dueInMs(instance: Instance): number {
    const level = instance.status?.storage?.level;
    const every = level === undefined || level === "Ok" ? STORAGE_EVERY_MS : STORAGE_NEAR_QUOTA_EVERY_MS;
    return Math.max(0, (this.#measuredAt.get(keyOf(instance)) ?? 0) + every - Date.now());
  }

  /** Is a measurement of this running instance due? If so it counts as taken now, whether or not it succeeds. */
  claim(instance: Instance): boolean {
    if (instance.status?.startedAt === undefined || this.dueInMs(instance) > 0) return false;
    this.#measuredAt.set(keyOf(instance), Date.now());
    return true;
  }

  /** Measure; report, protect or unprotect, and record the change of level. */
  async tend(subject: StorageSubject, reporter: ReplicationReporter): Promise<void> {
    const { instance, engine, context } = subject;
    const processStart = instance.status?.startedAt;
    if (processStart === undefined) return;
    const [usedBytes, freeBytes] = await Promise.all([diskUsage(context.rootDirectory), freeDiskBytes(context.rootDirectory)]);
    const measurement = { usedBytes, freeBytes, quotaBytes: instance.spec.storageQuota, at: now() };
    const decision = decideStorage(instance.status?.storage, measurement, processStart, engine.protectStorage !== undefined);
    if (decision.protect !== undefined) await engine.protectStorage?.(context, decision.protect, subject.admin, subject.host, this.#trust(instance));
    if (decision.write) await reporter.setStatus({ storage: decision.status });
    for (const event of decision.events) await reporter.record(event.type, event.reason, event.message);
  }

  forget(instance: Instance): void {
    this.#measuredAt.delete(keyOf(instance));
  }
}

function keyOf(instance: Instance): string {
  return instance.metadata.uid ?? instance.metadata.name;
}

/** Why a new instance's data cannot be created on this host (its quota does not fit the free disk), if it cannot. */
export async function quotaProblemAtCreation(instance: Instance, rootDirectory: string): Promise<string | undefined> {
  const quota = instance.spec.storageQuota;
  if (quota === undefined) return undefined;
  const free = await freeDiskBytes(rootDirectory).catch(() => undefined);
  return free === undefined ? undefined : quotaMisfit(quota, 0, free);
}
