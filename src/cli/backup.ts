/** `holdfast backup`: create, list, verify and delete backups of clusters (kbcli's backup commands). */
import { backupPolicyName, findKind, type KindInfo, type Resource } from "../api/index.ts";
import { CliError, NAMESPACE_FLAGS, UsageError, boolFlag, expectPositionals, namespaceOf, stringFlag, timeoutFlag } from "./args.ts";
import type { ParsedArgs } from "./args.ts";
import { backupStatusLine, backupsTable, formatBytes } from "./backup-views.ts";
import { runVerify, VERIFY_HELP } from "./backup-verify.ts";
import type { ApiClient } from "./client.ts";
import { clientOf } from "./context.ts";
import type { CliContext } from "./context.ts";
import { list, text } from "./fields.ts";
import { toJson } from "./output.ts";
import { sleep } from "./sleep.ts";
import { OUTPUT_FLAG, outputOf, runGroup, type CommandGroup } from "./subcommands.ts";

export const BACKUP_HELP = `Back up clusters into encrypted, verifiable repositories, and manage the backups.

Usage:
  holdfast backup create --cluster CLUSTER [--method METHOD] [--name NAME] [-n NAMESPACE] [--wait]
  holdfast backup list [-n NAMESPACE | -A] [--cluster CLUSTER]
  holdfast backup verify NAME [-n NAMESPACE]
  holdfast backup delete NAME [-n NAMESPACE]

Restore a backup into a new cluster with: holdfast cluster restore NEW --backup NAME

Run "holdfast backup SUBCOMMAND --help" for the flags of each.
`;

const CREATE_HELP = `Back up a cluster now, with a method of its component's BackupPolicy.

Usage:
  holdfast backup create --cluster CLUSTER [--component C] [--method METHOD] [--name NAME]
    [--deletion-policy Delete|Retain] [--retention-period 7d] [--parent BACKUP] [-n NAMESPACE] [--wait [--timeout 1h]]

Examples:
  holdfast backup create --cluster pg-cluster -n demo --wait
  holdfast backup create --cluster redis-standalone --method datafile -n demo
  holdfast backup create --cluster pg-cluster -n demo --parent pg-full --wait   # incremental on backup pg-full

Options:
      --cluster            Cluster to back up (required)
      --component          Component (default: the cluster's first)
      --method             Backup method (default: the policy's first: pg-basebackup, datafile, mariabackup)
      --name               Backup name (default: CLUSTER-METHOD-YYYYMMDDHHMMSS)
      --deletion-policy    Delete (default: deleting the Backup deletes its data) or Retain
      --retention-period   Delete the backup after this long: 7d, 12h, 1y2mo (default: keep)
      --parent             Incremental: store only content that Completed backup BACKUP's chain lacks
                           (spec.parentBackupName); restoring or verifying it needs every backup of the chain
      --wait               Wait until it is Completed (exit 1 if it fails), showing progress
      --timeout            How long --wait waits (default 1h)
  -n, --namespace          Namespace (default: default)
`;

const LIST_HELP = `List backups with their source cluster, method, status, sizes and duration.

Usage:
  holdfast backup list [-n NAMESPACE | -A] [--cluster CLUSTER] [-o json]

Example:
  holdfast backup list -n demo
`;

const DELETE_HELP = `Delete a backup. With deletionPolicy Delete (the default) its data is removed from the repository.
Deleting backups needs the "delete backups" permission (the admin role), which editors do not hold.

Usage:
  holdfast backup delete NAME [-n NAMESPACE]
`;

function backupKind(): KindInfo {
  const info = findKind("Backup");
  if (info === undefined) throw new Error("kind Backup is not registered");
  return info;
}

/** The Backup object `backup create` makes (pure). */
export function backupManifest(options: { name: string; namespace: string; policy: string; method: string; deletionPolicy?: string; retentionPeriod?: string; parent?: string }): Resource {
  return {
    apiVersion: "dataprotection.kubeblocks.io/v1alpha1",
    kind: "Backup",
    metadata: { name: options.name, namespace: options.namespace },
    spec: {
      backupPolicyName: options.policy,
      backupMethod: options.method,
      deletionPolicy: options.deletionPolicy ?? "Delete",
      ...(options.retentionPeriod === undefined ? {} : { retentionPeriod: options.retentionPeriod }),
      ...(options.parent === undefined ? {} : { parentBackupName: options.parent }),
    },
  };
}

/** `CLUSTER-METHOD-YYYYMMDDHHMMSS`. */
export function defaultBackupName(cluster: string, method: string, now: Date): string {
  const stamp = now.toISOString().replace(/[-:T]/g, "").slice(0, 14);
  return `${cluster}-${method}-${stamp}`;
}

async function runCreate(ctx: CliContext, args: ParsedArgs): Promise<number> {
  expectPositionals(args, [], "backup create");
  const cluster = stringFlag(args.values, "cluster");
  if (cluster === undefined) throw new UsageError("missing --cluster: name the cluster to back up", "backup create");
  const namespace = namespaceOf(args.values);
  const client = clientOf(ctx, args.values);
  const clusterObject = await client.get(kindOrThrow("Cluster"), namespace, cluster);
  const component = stringFlag(args.values, "component") ?? text(list(clusterObject, "spec.componentSpecs")[0], "name");
  const policyName = backupPolicyName(cluster, component);
  const policy = await client.get(kindOrThrow("BackupPolicy"), namespace, policyName);
  const method = stringFlag(args.values, "method") ?? text(list(policy, "spec.backupMethods")[0], "name");
  const name = stringFlag(args.values, "name") ?? defaultBackupName(cluster, method, ctx.now());
  const deletionPolicy = stringFlag(args.values, "deletion-policy");
  const retentionPeriod = stringFlag(args.values, "retention-period");
  const parent = stringFlag(args.values, "parent");
  const optional = { ...(deletionPolicy === undefined ? {} : { deletionPolicy }), ...(retentionPeriod === undefined ? {} : { retentionPeriod }), ...(parent === undefined ? {} : { parent }) };
  const manifest = backupManifest({ name, namespace, policy: policyName, method, ...optional });
  await client.create(backupKind(), namespace, manifest);
  ctx.io.out(`backup.dataprotection.kubeblocks.io/${name} created\n`);
  if (!boolFlag(args.values, "wait")) {
    ctx.io.err(`Follow it with: holdfast backup list -n ${namespace}, or holdfast wait backup/${name} -n ${namespace} --for=phase=Completed\n`);
    return 0;
  }
  return waitForBackup(ctx, client, namespace, name, timeoutFlag(args.values, 3_600_000, "backup create"));
}

function kindOrThrow(kind: string): KindInfo {
  const info = findKind(kind);
  if (info === undefined) throw new Error(`kind ${kind} is not registered`);
  return info;
}

/** Poll until Completed (0) or Failed (CliError with the reason); progress on a terminal. */
async function waitForBackup(ctx: CliContext, client: ApiClient, namespace: string, name: string, timeoutMs: number): Promise<number> {
  const started = Date.now();
  let shown = "";
  for (;;) {
    const backup = await client.get(backupKind(), namespace, name);
    const phase = text(backup, "status.phase", "New");
    if (phase === "Completed") {
      ctx.io.out(`backup ${name} Completed: ${formatBytes(text(backup, "status.totalSize"))} stored as ${formatBytes(text(backup, "status.storedSize"))} in ${text(backup, "status.duration")}\n`);
      return 0;
    }
    if (phase === "Failed") throw new CliError(`backup ${name} failed: ${text(backup, "status.failureReason", "no reason recorded")}`);
    const line = backupStatusLine(backup);
    if (ctx.io.errIsTTY && line !== shown) ctx.io.err(`backup/${name}: ${line}\n`);
    shown = line;
    if (Date.now() - started > timeoutMs) throw new CliError(`timed out waiting for backup ${name}; it is ${line}`);
    await sleep(1000);
  }
}

async function runList(ctx: CliContext, args: ParsedArgs): Promise<number> {
  expectPositionals(args, [], "backup list");
  const format = outputOf(args.values, ["json"], "backup list");
  const all = boolFlag(args.values, "all-namespaces");
  const cluster = stringFlag(args.values, "cluster");
  const selector = cluster === undefined ? {} : { labelSelector: `app.kubernetes.io/instance=${cluster}` };
  const backups = await clientOf(ctx, args.values).list(backupKind(), all ? undefined : namespaceOf(args.values), selector);
  if (format === "json") {
    ctx.io.out(toJson(backups));
    return 0;
  }
  if (backups.items.length === 0) {
    ctx.io.err(all ? "No backups found.\n" : `No backups found in namespace ${namespaceOf(args.values)}.\n`);
    return 0;
  }
  ctx.io.out(backupsTable(backups.items, ctx.now(), all));
  return 0;
}

async function runDelete(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const [name = ""] = expectPositionals(args, ["NAME"], "backup delete");
  await clientOf(ctx, args.values).delete(backupKind(), namespaceOf(args.values), name);
  ctx.io.out(`backup.dataprotection.kubeblocks.io "${name}" deleted\n`);
  return 0;
}

const BACKUP_GROUP: CommandGroup = {
  name: "backup",
  help: BACKUP_HELP,
  subcommands: {
    create: {
      help: CREATE_HELP,
      flags: {
        ...NAMESPACE_FLAGS,
        cluster: { type: "string" },
        component: { type: "string" },
        method: { type: "string" },
        name: { type: "string" },
        "deletion-policy": { type: "string" },
        "retention-period": { type: "string" },
        parent: { type: "string" },
        wait: { type: "boolean" },
        timeout: { type: "string" },
      },
      run: runCreate,
    },
    list: { help: LIST_HELP, flags: { ...NAMESPACE_FLAGS, cluster: { type: "string" }, ...OUTPUT_FLAG }, run: runList },
    verify: { help: VERIFY_HELP, flags: { ...NAMESPACE_FLAGS, ...OUTPUT_FLAG }, run: runVerify },
    delete: { help: DELETE_HELP, flags: { ...NAMESPACE_FLAGS }, run: runDelete },
  },
};

/** Run `holdfast backup SUBCOMMAND`. */
export function runBackup(ctx: CliContext, argv: readonly string[]): Promise<number> {
  return runGroup(ctx, argv, BACKUP_GROUP);
}
