/** Start the control plane: store, keyring, engines, controllers and the API server, in one process. */
import { startDatabaseLoginWatch } from "./database-logins.ts";
import { loadConsoleAssets } from "../console/index.ts";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { DETECTION_NAMESPACE, type Namespace } from "../api/index.ts";
import { loadDetectionSettings, SignalFeed, type DetectionSettings, type SignalFeedOptions } from "../detection/index.ts";
import { homePaths, portReservationsDirectory, type HomePaths } from "../config/index.ts";
import { AlreadyExistsError, InvalidError, UnavailableError } from "../errors/index.ts";
import { builtinEngines, EngineCatalog } from "../engines/index.ts";
import { OsUsers, PortReservations } from "../runtime/index.ts";
import { AuditLog, Authorizer, ensureBuiltinRoles, readServingMaterial, type AuthService } from "../security/index.ts";
import { createApiServer, type Access } from "../server/index.ts";
import type { Store } from "../store/index.ts";
import { createLogger, type Logger } from "../util/index.ts";
import { ensureDefaultBackupRepo, verifyBackupObject } from "../dataprotection/index.ts";
import { NodeHeartbeat } from "../agent/index.ts";
import { createControllers, createNodeAgent, type ControllerDeps } from "./controllers.ts";
import { LeaderElection, nodeJoinService, readControlPlaneConfig } from "../controlplane/index.ts";
import { advertisedApiUrl, parseNodeLabels, resolveNodeOptions } from "./node-options.ts";
import { openSharedState } from "./shared-state.ts";
import { instanceLogService } from "./instance-logs.ts";
import { isInitialised } from "./init.ts";
import { keyOperations } from "./key-operations.ts";
import { createMetrics, monitoringApi, observeSecurity, startObserved, stopMetrics } from "./monitoring.ts";
import type { ControlPlaneMetrics } from "../metrics/index.ts";
import { stopSpareProcesses } from "../child-process/index.ts";
import { isOtherServerAlive, readServerInfo, removeServerInfo, writeServerInfo } from "./server-info.ts";

export interface RunServerOptions {
  home: string;
  host: string;
  port: number;
  /** Listen on a non-loopback address (the API is authenticated and TLS-only, but loopback is the safe default). */
  allowRemote?: boolean;
  logLevel?: string;
  logger?: Logger;
  /**
   * This machine's node name (default: the one init recorded, else the host name): its node agent acts only on
   * instances bound to it, and it is the holder of the controllers' lease when it leads.
   */
  nodeName?: string;
  /** The address other nodes and clients reach this one at (default: the one init recorded, else the listen host). */
  advertise?: string;
  /** `--external-address`: the node's non-loopback address where exposed endpoints listen (TLS only); absent, none is served here. */
  externalAddress?: string;
  /** `--node-labels`: the Node's labels (beside its hostname label); absent, the labels it has are kept. */
  nodeLabels?: string;
  /** False with `--disable-detections`: wins over `enabled` of `<home>/detections.yaml` (default on). */
  detections?: boolean;
  /** Keep Prometheus metrics (default true; `--disable-metrics` turns them off). */
  metrics?: boolean;
}

/** A running control plane. */
export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/** The detection rules' thresholds, in the home (optional; docs/operations.md). */
export const DETECTIONS_FILE = "detections.yaml";

/** The package version, shown by `/version`. */
export const VERSION = "0.1.0";

/** Start everything; databases already running are re-adopted, never restarted. */
export async function runServer(options: RunServerOptions): Promise<RunningServer> {
  if (options.allowRemote !== true) assertLoopback(options.host);
  const logger = options.logger ?? createLogger({ level: options.logLevel ?? "info" });
  const paths = homePaths(options.home);
  requireInitialised(paths);
  await guardSingleServer(paths);
  const users = await prepareHome(paths, logger);
  const config = await readControlPlaneConfig(paths);
  const node = resolveNodeOptions({ host: options.host, nodeName: options.nodeName ?? config.nodeName, advertise: options.advertise ?? config.advertise, externalAddress: options.externalAddress });
  const shared = await openSharedState(paths, config, { existing: true });
  const metrics = createMetrics(options.metrics !== false, shared.store, logger);
  const store = metrics === undefined ? shared.store : metrics.instrumentStore(shared.store);
  const keyring = shared.security.keyring;
  await ensureNamespace(store, "default");
  await ensureNamespace(store, DETECTION_NAMESPACE);
  await ensureBuiltinRoles(store);
  const access = await openAccess(paths, shared.security.auth, store);
  const engines = new EngineCatalog(builtinEngines());
  await ensureDefaultBackupRepo(store, paths.backupsDir);
  const ports = new PortReservations({ directory: portReservationsDirectory(), home: paths.home });
  const labels = options.nodeLabels === undefined ? undefined : parseNodeLabels(options.nodeLabels);
  const heartbeat = new NodeHeartbeat({ nodeName: node.nodeName, identity: { advertise: node.advertise, externalAddress: node.externalAddress, home: paths.home, holdfastVersion: VERSION }, store, engines, logger, ...(labels === undefined ? {} : { labels }) });
  await heartbeat.start();
  const detection = await loadDetectionSettings(join(paths.home, DETECTIONS_FILE), options.detections);
  const deps: ControllerDeps = { store, engines, users, paths, logger, keyring, ports, nodeName: node.nodeName, advertise: node.advertise, externalAddress: node.externalAddress, detection };
  const feed = await startSignalFeed(detection, { store, audit: access.audit, node: node.nodeName, logger, adminGroups: detection.adminGroups }, { paths, engines });
  const agent = createNodeAgent(deps);
  for (const controller of agent) await startObserved(controller, metrics);
  const election = electControllers(deps, metrics);
  const tls = await readServingMaterial(paths.tls);
  await observeSecurity(metrics, { audit: access.audit, tls, keyring, paths });
  const keys = keyOperations({ keyring, store, auth: access.auth });
  const dataProtection = { verifyBackup: (namespace: string, name: string) => verifyBackupObject({ store, keyring }, namespace, name) };
  let publicUrl = "";
  const nodeJoin = config.store.type === "etcd" ? nodeJoinService({ store, paths, config, publicUrl: () => publicUrl }) : undefined;
  const instanceLogs = instanceLogService({ store, paths, nodeName: node.nodeName, engine: (name) => engines.find(name) });
  const monitoring = monitoringApi(store, metrics);
  const console = await loadConsoleAssets();
  const api = createApiServer({ store, engines, logger, version: VERSION, access, auditDirectory: paths.auditDir, keys, tls, dataProtection, instanceLogs, console, ...monitoring, ...(nodeJoin === undefined ? {} : { nodeJoin }) });
  const { url } = await api.listen(options.host, options.port);
  publicUrl = advertisedApiUrl(node.advertise, url);
  await heartbeat.setApiUrl(publicUrl);
  await writeServerInfo(paths.serverInfo, { url, pid: process.pid, startedAt: new Date().toISOString() });
  logger.info({ url, home: paths.home, node: node.nodeName, store: config.store.type, detections: detection.enabled }, "holdfast server started");
  return {
    url,
    async close() {
      await api.close();
      await feed.stop();
      stopMetrics(metrics);
      await election.stop();
      await stopAgent(agent);
      await heartbeat.stop();
      await closeAccess(access);
      await shared.close();
      await removeServerInfo(paths.serverInfo);
      logger.info("holdfast server stopped; databases keep running and are re-adopted at the next start");
    },
  };
}

/** The node agent's controllers, then the processes it kept waiting for jobs. */
async function stopAgent(agent: readonly { stop(): Promise<void> }[]): Promise<void> {
  for (const controller of agent) await controller.stop();
  stopSpareProcesses();
}

/** The controllers run on the node that holds the controllers' lease, each term over a store fenced by it. */
function electControllers(deps: ControllerDeps, metrics: ControlPlaneMetrics | undefined): LeaderElection {
  const { store } = deps;
  const election = new LeaderElection({
    leases: store.leases,
    holder: deps.nodeName,
    logger: deps.logger,
    lead: async (lease) => {
      const controllers = createControllers({ ...deps, store: store.fenced(lease) });
      // All at once: the ha controller's first pass after a takeover should not wait for the others' lists.
      await Promise.all(controllers.map((controller) => startObserved(controller, metrics)));
      return {
        stop: async () => {
          for (const controller of controllers) await controller.stop();
        },
      };
    },
  });
  election.start();
  return election;
}

/**
 * This node's signal feed to the detector (docs/adr/0036), and the node agent's watch of database superuser logins
 * that feeds the audit log; with detection off, nothing is forwarded or watched.
 */
async function startSignalFeed(settings: DetectionSettings, options: SignalFeedOptions, node: { paths: HomePaths; engines: EngineCatalog }): Promise<{ stop(): Promise<void> }> {
  if (!settings.enabled) return { stop: () => Promise.resolve() };
  const feed = new SignalFeed(options);
  await feed.start();
  const logins = startDatabaseLoginWatch({ store: options.store, paths: node.paths, nodeName: options.node, logger: options.logger, audit: options.audit, engine: (name) => node.engines.find(name) });
  return {
    async stop() {
      logins.stop();
      await feed.stop();
    },
  };
}

/** Loopback unless the operator says otherwise (--allow-remote): reaching the API from other machines is a decision. */
export function assertLoopback(host: string): void {
  const loopback = host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
  if (!loopback) {
    throw new InvalidError(`refusing to listen on ${host} without --allow-remote: the API listens on loopback (127.0.0.1, ::1) by default; see docs/security.md before exposing it`, {
      causes: [{ field: "--listen", message: "must be a loopback address unless --allow-remote is given" }],
    });
  }
}

/** The server does not start on a home without TLS material and users: there are no default credentials. */
function requireInitialised(paths: HomePaths): void {
  if (!isInitialised(paths.home)) {
    throw new UnavailableError(`${paths.home} is not initialised: run holdfast init --home ${paths.home} first (it creates the TLS certificates, keys and the first administrator)`);
  }
}

async function openAccess(paths: HomePaths, auth: AuthService, store: Store): Promise<Access> {
  const audit = await AuditLog.open({ directory: paths.auditDir, signingKeyFile: paths.auditSigningKey, hmacKeyFile: paths.auditHmacKey });
  return { auth, audit, authorizer: new Authorizer(store) };
}

async function closeAccess(access: Access): Promise<void> {
  await access.audit.close();
  access.authorizer.close();
}

async function guardSingleServer(paths: HomePaths): Promise<void> {
  const info = await readServerInfo(paths.serverInfo);
  if (isOtherServerAlive(info)) {
    throw new UnavailableError(`another holdfast server (pid ${info?.pid ?? "?"}) is already running for ${paths.home}; stop it with holdfast server stop`);
  }
}

/**
 * The home (0700), its logs, and an instances directory (0711) each cluster's OS user can reach: a user is given
 * search permission (ACL) on the way there when it is created, and it is taken back when the user is removed.
 */
async function prepareHome(paths: HomePaths, logger: Logger): Promise<OsUsers> {
  await mkdir(paths.home, { recursive: true, mode: 0o700 });
  await mkdir(paths.instanceLogsDir, { recursive: true, mode: 0o750 });
  await mkdir(paths.instancesDir, { recursive: true, mode: 0o711 });
  return new OsUsers({
    reach: [paths.instancesDir],
    perUserRoots: [paths.backupScratchDir],
    onGranted: (user, directories) => logger.info({ directories, user }, "granted a cluster's OS user search permission (ACL) on the path to the instances directory"),
  });
}

async function ensureNamespace(store: Store, name: string): Promise<void> {
  const namespace: Namespace = { apiVersion: "v1", kind: "Namespace", metadata: { name } };
  try {
    await store.create(namespace);
  } catch (error) {
    if (!(error instanceof AlreadyExistsError)) throw error;
  }
}
