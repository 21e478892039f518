/** `holdfast cluster restore NEW --backup NAME`: a new cluster, shaped like the backed-up one, whose data comes from the backup. */
import { CLUSTER_SNAPSHOT_ANNOTATION, findKind, parseRestoreTime, restoredClusterManifest as restoredCluster, type KindInfo, type Resource } from "../api/index.ts";
import { CliError, UsageError, boolFlag, expectPositionals, namespaceOf, stringFlag, timeoutFlag } from "./args.ts";
import type { ParsedArgs } from "./args.ts";
import type { ApiClient } from "./client.ts";
import { clientOf } from "./context.ts";
import type { CliContext } from "./context.ts";
import { record, text } from "./fields.ts";
import { humanDuration, toYaml } from "./output.ts";
import { sleep } from "./sleep.ts";

export const RESTORE_HELP = `Create a new cluster from a backup: same engine, version, topology and resources as the
backed-up cluster (recorded in the backup), with its data restored from the backup. The data is
checked chunk by chunk as it is read; a damaged backup leaves the new cluster Failed, never running
on bad data. The new cluster gets its own passwords.

Point-in-time recovery: with --restore-to-time, the data is as it was at that moment: a full
backup (pg-basebackup) that ended before it, plus the WAL archived by a continuous backup
(archive-wal) up to it. Name either backup; "holdfast backup list" shows the TIME-RANGE a
continuous backup covers, and a time outside it is refused with the covered range.

While the data is restored, the new cluster's status message, "holdfast describe cluster NEW"
and "holdfast describe instance NEW-COMPONENT-0" show the bytes read of the backup's total, the
rate and the time left. To cancel a restore, delete the new cluster: the restore stops within
seconds and its partial data is removed.

Usage:
  holdfast cluster restore NEW --backup NAME [--restore-to-time T] [-n NAMESPACE] [--backup-namespace NS] [--dry-run] [--wait [--timeout 1h]]

Examples:
  holdfast cluster restore pg-restored --backup pg-cluster-pg-basebackup-20250101120000 -n demo
  holdfast cluster restore pg-copy --backup nightly -n demo --dry-run > pg-copy.yaml
  holdfast cluster restore pg-copy --backup nightly -n demo --wait
  holdfast delete cluster pg-copy -n demo    # cancels the restore
  holdfast cluster restore pg-before-drop --backup pg-cluster-archive-wal --restore-to-time 2025-01-02T15:04:05Z -n demo

Options:
      --backup             The Backup to restore from (required; Completed, or a Running continuous backup with --restore-to-time)
      --restore-to-time    Restore to this moment, an RFC 3339 time such as 2025-01-02T15:04:05Z or 2025-01-02T17:04:05+02:00
      --backup-namespace   Namespace of the Backup (default: the new cluster's)
      --dry-run            Print the Cluster manifest instead of creating it
      --wait               Wait until the cluster is Running (exit 1 if it fails), showing the restore's progress
      --timeout            How long --wait waits (default 1h)
  -n, --namespace          Namespace of the new cluster (default: default)
`;

/** The restored cluster: the source's spec (without any restore of its own) plus spec.restore naming the backup (pure). */
export function restoredClusterManifest(name: string, namespace: string, sourceSpec: Record<string, unknown>, backup: { name: string; namespace: string; restoreTime?: string }): Resource {
  return restoredCluster(name, namespace, sourceSpec, backup);
}

/** The --restore-to-time value as an RFC 3339 time in UTC, or a usage error saying how to write it. */
function restoreTimeOf(args: ParsedArgs): string | undefined {
  const value = stringFlag(args.values, "restore-to-time");
  if (value === undefined) return undefined;
  try {
    return parseRestoreTime(value).toISOString();
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error), "cluster restore");
  }
}

/** The source cluster's spec: the snapshot the backup recorded, else the live source cluster. */
async function sourceSpecOf(client: ApiClient, backup: Resource, namespace: string): Promise<Record<string, unknown>> {
  const snapshot = backup.metadata.annotations?.[CLUSTER_SNAPSHOT_ANNOTATION];
  if (snapshot !== undefined) {
    try {
      return JSON.parse(snapshot) as Record<string, unknown>;
    } catch {
      // fall back to the live cluster
    }
  }
  const source = text(backup, "status.source.cluster");
  const clusterKind = findKind("Cluster");
  const live = source === "" || clusterKind === undefined ? undefined : await client.find(clusterKind, namespace, source);
  if (live === undefined) throw new CliError(`backup ${backup.metadata.name} does not record the cluster it was taken from; write the Cluster yourself with spec.restore.source.name: ${backup.metadata.name}`);
  return record(live, "spec");
}

/** Run `holdfast cluster restore`. */
export async function runRestore(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const [name = ""] = expectPositionals(args, ["NEW"], "cluster restore");
  const backupName = stringFlag(args.values, "backup");
  if (backupName === undefined) throw new UsageError("missing --backup: name the Backup to restore from (holdfast backup list)", "cluster restore");
  const namespace = namespaceOf(args.values);
  const backupNamespace = stringFlag(args.values, "backup-namespace") ?? namespace;
  const restoreTime = restoreTimeOf(args);
  const [backupKind, clusterKind] = [kindOrThrow("Backup"), kindOrThrow("Cluster")];
  const client = clientOf(ctx, args.values);
  const backup = await client.get(backupKind, backupNamespace, backupName);
  const phase = text(backup, "status.phase", "New");
  const restorable = phase === "Completed" || (restoreTime !== undefined && phase === "Running");
  if (!restorable) throw new CliError(`backup ${backupName} is ${phase}: only a Completed backup (or a Running continuous one, with --restore-to-time) can be restored`);
  const manifest = restoredClusterManifest(name, namespace, await sourceSpecOf(client, backup, backupNamespace), { name: backupName, namespace: backupNamespace, ...(restoreTime === undefined ? {} : { restoreTime }) });
  if (boolFlag(args.values, "dry-run")) {
    ctx.io.out(toYaml(manifest));
    return 0;
  }
  await client.create(clusterKind, namespace, manifest);
  ctx.io.out(`cluster.apps.kubeblocks.io/${name} created from backup ${backupName}${restoreTime === undefined ? "" : ` as of ${restoreTime}`}\n`);
  if (boolFlag(args.values, "wait")) return waitForRestore(ctx, client, namespace, name, timeoutFlag(args.values, 3_600_000, "cluster restore"));
  ctx.io.err(`Follow it with: holdfast wait cluster/${name} -n ${namespace} --for=phase=Running (holdfast describe cluster ${name} -n ${namespace} shows the restore's progress)\n`);
  return 0;
}

/** Poll until the restored cluster is Running (0) or Failed (CliError with its message); progress on a terminal. */
async function waitForRestore(ctx: CliContext, client: ApiClient, namespace: string, name: string, timeoutMs: number): Promise<number> {
  const clusterKind = kindOrThrow("Cluster");
  const started = Date.now();
  let shown = "";
  for (;;) {
    const cluster = await client.get(clusterKind, namespace, name);
    const phase = text(cluster, "status.phase", "Creating");
    if (phase === "Running") {
      ctx.io.out(`cluster ${name} Running, restored in ${humanDuration(Date.now() - started)}\n`);
      return 0;
    }
    if (phase === "Failed") throw new CliError(`the restore of cluster ${name} failed: ${text(cluster, "status.message", "no reason recorded")}; see holdfast describe cluster ${name} -n ${namespace}`);
    const line = `${phase}${text(cluster, "status.message") === "" ? "" : `: ${text(cluster, "status.message")}`}`;
    if (ctx.io.errIsTTY && line !== shown) ctx.io.err(`cluster/${name}: ${line}\n`);
    shown = line;
    if (Date.now() - started > timeoutMs) throw new CliError(`timed out waiting for cluster ${name}; it is ${line}`);
    await sleep(1000);
  }
}

function kindOrThrow(kind: string): KindInfo {
  const info = findKind(kind);
  if (info === undefined) throw new Error(`kind ${kind} is not registered`);
  return info;
}

/** Flags of `cluster restore`. */
export const RESTORE_FLAGS = { backup: { type: "string" }, "backup-namespace": { type: "string" }, "restore-to-time": { type: "string" }, "dry-run": { type: "boolean" }, wait: { type: "boolean" }, timeout: { type: "string" } } as const;
