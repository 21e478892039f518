/**
 * Instance (holdfast.io/v1alpha1): one database process, the local runtime's equivalent of a Pod.
 * The cluster controller writes the spec (the port included, also when it moves); the runtime drives the
 * process and writes the status.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { instancePasswordStatusSchema } from "./password-rotation.ts";
import { conditionSchema, metadataSchema } from "./common.ts";
import { arbiterRequestSchema, arbiterRequestStatusSchema, arbiterStateSchema } from "./arbiter.ts";
import { instanceClientTlsSchema } from "./client-tls.ts";
import { customActionRequestSchema, customActionStatusSchema } from "./custom-action.ts";
import { instanceStorageStatusSchema } from "./storage-quota.ts";
import { instanceReplicationSpecSchema, instanceReplicationStateSchema, instanceReplicationStatusSchema } from "./replication.ts";

/** A safe POSIX user name: no leading dash (never read as an option), at most 32 characters. */
export const OS_USER_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;

/** The one OS user every database ran as before each cluster had its own; instances without spec.osUser keep it. */
export const SHARED_OS_USER = "holdfast";

export const instanceSpecSchema = z.object({
  /** Engine module name, e.g. `postgresql`. */
  engine: z.string(),
  /** Engine version to run, one of the versions installed on the host. */
  version: z.string(),
  clusterName: z.string(),
  componentName: z.string(),
  /** Ordinal within the component: the `N` of `<cluster>-<component>-N`. */
  ordinal: z.int().min(0),
  /** TCP port on 127.0.0.1. */
  port: z.int().min(1).max(65535),
  /** Desired run state: false stops the process and keeps the data. */
  running: z.boolean(),
  /** Role the instance should take in its topology (standalone instances are `primary`). */
  role: z.string().optional(),
  /** Engine parameters derived from the component's resources and configuration. */
  parameters: z.record(z.string(), z.string()),
  /** The names in `parameters` its node agent applies to the running server without a restart (the engine's dynamic ones). */
  liveParameters: z.array(z.string()).optional(),
  /** Bumped (any new value) to ask for a restart, like KubeBlocks' restart annotation. */
  restartRequest: z.string().optional(),
  /** Remove the data directory when the instance is deleted. */
  deleteData: z.boolean(),
  /** Replication of a replicated component's instance (see replication.ts). */
  replication: instanceReplicationSpecSchema.optional(),
  /** Clients only in TLS, with certificates of this issuer (the component's `tls: true`, ADR 0042). */
  clientTls: instanceClientTlsSchema.optional(),
  /** No metrics exporter beside the database (the component's `disableExporter: true`). */
  disableExporter: z.boolean().optional(),
  /**
   * Bytes the instance's files may take on disk (its component's `data` volumeClaimTemplate storage, ADR 0048): its
   * node agent measures them and protects writes at the quota. Not part of what a process is started with: a new quota
   * needs no restart.
   */
  storageQuota: z.int().min(0).optional(),
  /**
   * Replace the data of this replica (a RebuildInstance, ADR 0045): its node agent stops it, empties its data directory
   * and fills it again from the primary, or from `backup` (then it catches up from the primary as a replica). A new
   * `request` value asks again; the agent never rebuilds an instance whose spec names it primary.
   */
  rebuild: z.object({ request: z.string().min(1), backup: z.object({ backupName: z.string(), backupNamespace: z.string() }).optional() }).optional(),
  /** Fill a new data directory from this backup instead of initialising it empty. */
  restore: z.object({ backupName: z.string(), backupNamespace: z.string(), restoreTime: z.string().optional() }).optional(),
  /**
   * The OS user the instance's processes and engine commands run as: one per cluster (clusterOsUser), chosen by the
   * cluster controller when it creates the instance. Absent on instances made before clusters had their own user.
   */
  osUser: z.string().regex(OS_USER_NAME).optional(),
  /**
   * The node (machine) the instance is bound to: only that node's agent starts, stops, probes, configures, fences,
   * promotes, repoints, backs up and restores it. Set once, when the instance is created.
   */
  nodeName: z.string().optional(),
  /** On an arbiter's instance (a Redis Sentinel): what the ha controller asks of it (see arbiter.ts). */
  arbiterRequest: arbiterRequestSchema.optional(),
  /** The engine actions a `Custom` OpsRequest asks of this instance (ADR 0054); written by the OpsRequest controller only. */
  customAction: customActionRequestSchema.optional(),
  /**
   * Nodes the instance was bound to before it was rebuilt on `nodeName` because its node was lost (ADR 0027). The node
   * agent of each stops any process of the instance it still runs, moves its files aside, and takes its node off.
   */
  formerNodes: z.array(z.string()).optional(),
});

/** How far the restore of a new instance's data from a backup has come (Holdfast's own field). */
export const restoreProgressSchema = z.object({
  /** The backup read, `namespace/name`. */
  backup: z.string(),
  /** Backup (plaintext) bytes read and handed to the engine so far. */
  bytesDone: z.number().nonnegative(),
  /** Bytes of the backup in all, from its manifest (the full backup's alone for a point-in-time restore). */
  totalBytes: z.number().nonnegative().optional(),
  /** Bytes per second since the start. */
  bytesPerSecond: z.number().nonnegative(),
  /** Seconds left at the current rate, while bytes remain. */
  etaSeconds: z.number().nonnegative().optional(),
  startedAt: z.string(),
  updatedAt: z.string(),
});

export const instancePhaseSchema = z.enum(["Pending", "Initializing", "Starting", "Running", "Stopping", "Stopped", "CrashLoopBackOff", "Failed", "Terminating"]);

/** The instance's metrics exporter, run by its node agent beside the database (ADR 0035). */
export const exporterStatusSchema = z.object({
  /** Where Prometheus scrapes it: the instance's host, this port (reserved host-wide), path /metrics, plain HTTP. */
  port: z.int().min(1).max(65535),
  pid: z.int().optional(),
  /** As status.processStartTicks, for the exporter's process. */
  processStartTicks: z.string().optional(),
  startedAt: z.string().optional(),
  /** The database start (status.startedAt) the monitoring account was last set up for. */
  accountFor: z.string().optional(),
  /** The generation of the monitoring account's password it was started with (ADR 0038): another one restarts it. */
  accountGeneration: z.int().optional(),
  /** Why it is not running, or why its account is not set up, when that is so. */
  message: z.string().optional(),
});

export const instanceStatusSchema = z.object({
  observedGeneration: z.int().optional(),
  phase: instancePhaseSchema.optional(),
  message: z.string().optional(),
  ready: z.boolean().optional(),
  role: z.string().optional(),
  pid: z.int().optional(),
  /** Process start time in clock ticks since boot (/proc/PID/stat field 22), to tell a reused pid apart. */
  processStartTicks: z.string().optional(),
  startedAt: z.string().optional(),
  restartCount: z.int().optional(),
  lastTerminatedAt: z.string().optional(),
  /** Crashes in a row without a stable run in between; drives the restart backoff. */
  consecutiveFailures: z.int().optional(),
  /** No restart before this time (CrashLoopBackOff). */
  backoffUntil: z.string().optional(),
  /** instanceConfigHash of the spec the running process was started with; a different hash needs a restart. */
  appliedConfig: z.string().optional(),
  /** The restartRequest value that was last carried out. */
  appliedRestartRequest: z.string().optional(),
  /** instanceLiveConfigHash of the live parameters the running server has (at its start or applied since). */
  appliedLiveConfig: z.string().optional(),
  /** The live parameter names it has, so one removed from the spec can be reset. */
  appliedLiveParameters: z.array(z.string()).optional(),
  /** A secondary's replication lag, as its primary reports it (written by the ha controller). */
  replication: instanceReplicationStatusSchema.optional(),
  /** What the node agent last saw of the instance's replication (written by the node agent only). */
  replicationState: instanceReplicationStateSchema.optional(),
  /** On an arbiter's instance: what it last said of its component (written by the node agent only, see arbiter.ts). */
  arbiterState: arbiterStateSchema.optional(),
  /** On an arbiter's instance: how spec.arbiterRequest went (written by the node agent only). */
  arbiterRequest: arbiterRequestStatusSchema.optional(),
  /** How spec.customAction went (written by the node agent only). */
  customAction: customActionStatusSchema.optional(),
  /**
   * Per system account: the password generation this instance accepts (ADR 0038; written by the node agent only,
   * never a password).
   */
  passwords: z.record(z.string(), instancePasswordStatusSchema).optional(),
  /**
   * Per managed user (DatabaseUser, ADR 0046) this instance applied: a digest of what it applied (spec, password
   * generation, process start), never a password; written by the node agent only.
   */
  managedUsers: z.record(z.string(), z.string()).optional(),
  /**
   * Per managed database (Database, ADR 0053), by its name on the server: the spec digest this instance applied, or
   * `<digest>!<reason>` when applying it failed; written by the node agent of the primary only.
   */
  managedDatabases: z.record(z.string(), z.string()).optional(),
  /** The primary lease this instance's node agent holds for it (ADR 0029); absent when it holds none. */
  primaryLease: z.object({ name: z.string(), holder: z.string(), acquiredAt: z.string() }).optional(),
  /**
   * The address the database listens on and peers connect to: its node's advertised address (written by the
   * node agent only; absent before the first start, and read as 127.0.0.1 then).
   */
  host: z.string().optional(),
  dataDirectory: z.string().optional(),
  logFile: z.string().optional(),
  conditions: z.array(conditionSchema).optional(),
  /** The metrics exporter beside the database (written by the node agent only). */
  exporter: exporterStatusSchema.optional(),
  /** What its node agent last measured of its storage against spec.storageQuota (ADR 0048). */
  storage: instanceStorageStatusSchema.optional(),
  /**
   * The last rebuild its node agent took up (spec.rebuild.request): `Rebuilding` once the old data is removed (there is
   * no way back to it then), `Rebuilt` once the instance started on its new data.
   */
  rebuild: z.object({ request: z.string(), state: z.enum(["Rebuilding", "Rebuilt"]), source: z.string(), startedAt: z.string(), completedAt: z.string().optional() }).optional(),
  /** Set while the data is being restored from a backup (spec.restore). */
  restoreProgress: restoreProgressSchema.optional(),
  /**
   * The runtime found `spec.port` taken by another program when it was about to start the process; the
   * cluster controller (the one writer of `spec.port`) moves the instance to a new port.
   */
  portConflict: z.object({ port: z.int().min(1).max(65535), detectedAt: z.string() }).optional(),
});

export const instanceSchema = z.object({
  apiVersion: z.literal("holdfast.io/v1alpha1"),
  kind: z.literal("Instance"),
  metadata: metadataSchema,
  spec: instanceSpecSchema,
  status: instanceStatusSchema.optional(),
});

export type InstanceSpec = z.infer<typeof instanceSpecSchema>;
export type RestoreProgress = z.infer<typeof restoreProgressSchema>;
export type InstancePhase = z.infer<typeof instancePhaseSchema>;
export type InstanceStatus = z.infer<typeof instanceStatusSchema>;
export type ExporterStatus = z.infer<typeof exporterStatusSchema>;
export type Instance = z.infer<typeof instanceSchema>;

/** Name of the Secret holding one system account's credentials, as KubeBlocks names it. */
export function accountSecretName(clusterName: string, componentName: string, account: string): string {
  return `${clusterName}-${componentName}-account-${account}`;
}

/** Name of an instance, as KubeBlocks names pods: `<cluster>-<component>-<ordinal>`. */
export function instanceName(clusterName: string, componentName: string, ordinal: number): string {
  return `${clusterName}-${componentName}-${ordinal}`;
}

/** The lease a replicated component's primary runs under: one per component, named by the cluster's uid. */
export function primaryLeaseName(clusterUid: string, component: string): string {
  return `primary-${clusterUid}-${component}`;
}

/** The primary lease of `instance`'s component (its owning Cluster's uid; the namespace and cluster name without one). */
export function primaryLeaseOf(instance: Pick<Instance, "metadata" | "spec">): string {
  const owner = instance.metadata.ownerReferences?.find((o) => o.kind === "Cluster")?.uid ?? `${instance.metadata.namespace ?? "default"}.${instance.spec.clusterName}`;
  return primaryLeaseName(owner, instance.spec.componentName);
}

/** Who holds a primary lease: the instance (its uid) on its node, so two instances on one node never share it. */
export function primaryLeaseHolder(nodeName: string, instance: Pick<Instance, "metadata">): string {
  return `${nodeName}/${instance.metadata.name}/${instance.metadata.uid ?? ""}`;
}

/** The address other processes (peers, endpoints, probes on other nodes) reach the instance at. */
export function instanceHost(instance: Pick<Instance, "status">): string {
  return instance.status?.host ?? "127.0.0.1";
}

/**
 * A digest of what a running process was started with (engine, version, port, parameters other than its live ones,
 * client TLS): a change to it needs a restart, a change to a live parameter does not (instanceLiveConfigHash).
 */
export function instanceConfigHash(spec: Pick<InstanceSpec, "engine" | "version" | "port" | "parameters" | "liveParameters" | "clientTls">): string {
  const live = new Set(spec.liveParameters ?? []);
  const parameters = Object.entries(spec.parameters).filter(([name]) => !live.has(name)).sort(([a], [b]) => a.localeCompare(b));
  // Client TLS joins the hash only when set, so instances without it keep the hash they were started with.
  const hashed = spec.clientTls === undefined ? [spec.engine, spec.version, spec.port, parameters] : [spec.engine, spec.version, spec.port, parameters, spec.clientTls];
  return createHash("sha256").update(JSON.stringify(hashed)).digest("hex").slice(0, 16);
}

/** A digest of the live parameters (names in `liveParameters`, with their values). */
export function instanceLiveConfigHash(spec: Pick<InstanceSpec, "parameters" | "liveParameters">): string {
  const live = [...(spec.liveParameters ?? [])].sort().map((name) => [name, spec.parameters[name] ?? null]);
  return createHash("sha256").update(JSON.stringify(live)).digest("hex").slice(0, 16);
}

/** Has the running instance live parameters its node agent has not applied yet? (None recorded counts as none set.) */
export function instanceLiveConfigPending(instance: Instance): boolean {
  const { spec, status } = instance;
  if (status?.appliedConfig === undefined || status.pid === undefined) return false;
  return (status.appliedLiveConfig ?? instanceLiveConfigHash({ parameters: {} })) !== instanceLiveConfigHash(spec);
}

/**
 * Is the instance held stopped after an unexpected exit (its spec says fenceOnExit, its node agent reports heldSince)
 * until the ha controller fails over (it fences it) or restarts it in place (spec.replication.restartAfterExit)?
 */
export function heldAfterExit(instance: Instance): boolean {
  const replication = instance.spec.replication;
  const heldSince = instance.status?.replicationState?.heldSince;
  return replication?.fenceOnExit === true && heldSince !== undefined && replication.restartAfterExit !== heldSince;
}

/** Does the spec ask for a rebuild its node agent has not finished (spec.rebuild newer than status.rebuild)? */
export function instanceRebuildPending(instance: Instance): boolean {
  const wanted = instance.spec.rebuild?.request;
  if (wanted === undefined) return false;
  const seen = instance.status?.rebuild;
  return seen?.request !== wanted || seen.state !== "Rebuilt";
}

/** Does a running instance need a restart: a new restart request, or a spec it was not started with? */
export function instanceNeedsRestart(instance: Instance): boolean {
  const { spec, status } = instance;
  if (spec.restartRequest !== undefined && spec.restartRequest !== status?.appliedRestartRequest) return true;
  return status?.appliedConfig !== undefined && status.appliedConfig !== instanceConfigHash(spec);
}

/** The OS user of a cluster's instances: `hf-` and a digest of the cluster's uid (stable, unique per cluster, 19 characters). */
export function clusterOsUser(clusterUid: string): string {
  return `hf-${createHash("sha256").update(clusterUid).digest("hex").slice(0, 16)}`;
}

/** The OS user an instance runs as: its own cluster's, or the shared one for instances made by older versions. */
export function instanceOsUser(instance: Instance): string {
  return instance.spec.osUser ?? SHARED_OS_USER;
}
