/** Wires the controllers to the store, the engines and the local runtime. */
import type { Instance } from "../api/index.ts";
import type { BackupKeyring } from "../backup/index.ts";
import type { HomePaths } from "../config/index.ts";
import { DATABASE_PORT_RANGE } from "../config/index.ts";
import { ClusterReconciler, type EngineLookup } from "../controllers/cluster/index.ts";
import { databaseAddress, ExporterAgent, InstanceReconciler } from "../agent/index.ts";
import { NamespaceReconciler } from "../controllers/namespace/index.ts";
import { DatabaseUserReconciler } from "../controllers/database-user/index.ts";
import { DatabaseReconciler } from "../controllers/database/index.ts";
import { OpsRequestReconciler } from "../controllers/ops/index.ts";
import { createHaController } from "./ha-controller.ts";
import { createEndpointController } from "./endpoint-controller.ts";
import { createNodeLifecycleController } from "./node-controller.ts";
import { createDataProtectionControllers } from "./data-protection-controllers.ts";
import { createBackupAgentControllers } from "./backup-agent-controllers.ts";
import { createDataRestorer } from "../dataprotection/index.ts";
import { keepRestoreProcessReady } from "../restore-process/index.ts";
import { keepBackupProcessReady } from "../backup-process/index.ts";
import { Controller, createEventRecorder, keyOf, ownerKeys } from "../controllers/runtime/index.ts";
import { type OsUsers, ProcessSupervisor, type PortReservations } from "../runtime/index.ts";
import type { Store } from "../store/index.ts";
import type { Logger } from "../util/index.ts";
import { createDetector, type DetectionSettings } from "../detection/index.ts";

export interface ControllerDeps {
  store: Store;
  engines: EngineLookup;
  /** The OS users instances run as, one per cluster. */
  users: OsUsers;
  paths: HomePaths;
  logger: Logger;
  /** Wraps backup data keys (the secret keyring). */
  keyring: BackupKeyring;
  /** Host-wide port reservations for instances and endpoints. */
  ports: PortReservations;
  /** This machine's node: its agent acts only on instances bound to it. */
  nodeName: string;
  /** The address this node advertises (`--advertise`): its databases listen on it, peers reach them there, and the clusters' endpoints listen there. */
  advertise: string;
  /** The node's external address (`--external-address`, non-loopback): exposed endpoints listen there; absent, none is served here. */
  externalAddress?: string | undefined;
  /** The detection rules' settings; absent or disabled, the leader runs no detector. */
  detection?: DetectionSettings;
}

/**
 * This node's agent: the instance controller, the backup runner and the WAL archiver, for the instances bound to this
 * node, and every cluster's endpoints on this node's address. It runs on every node, elected or not.
 */
export function createNodeAgent(deps: ControllerDeps): Controller[] {
  const { store, logger } = deps;
  const supervisor = new ProcessSupervisor();
  const instances = new Controller({
    name: "instance",
    store,
    logger,
    workers: 4,
    watches: [{ kind: "Instance" }],
    reconciler: new InstanceReconciler({
      store,
      engines: deps.engines,
      events: createEventRecorder(store, "instance-controller", logger),
      supervisor,
      users: deps.users,
      paths: deps.paths,
      restorer: createDataRestorer({ store, keyring: deps.keyring, compileCache: deps.paths.moduleCacheDir }, logger),
      wake: (instance) => instances.enqueue(keyOf(instance)),
      nodeName: deps.nodeName,
      address: databaseAddress(deps.advertise),
      logger,
    }),
  });
  // A backup's and a restore's own processes, each started ahead of its job and waiting (ADRs 0044, 0050): a job takes
  // one with its modules (through this compile cache) and threads loaded, instead of waiting 0.4–0.6 s for them.
  keepBackupProcessReady(deps.paths.moduleCacheDir);
  if (!keepRestoreProcessReady(deps.paths.moduleCacheDir)) logger.warn("the module compile cache's directory could not be made: restores start their process when they begin, slower");
  const exporters = new Controller({
    name: "exporter",
    store,
    logger,
    watches: [{ kind: "Instance" }],
    reconciler: new ExporterAgent({ ...deps, supervisor, events: createEventRecorder(store, "exporter-agent", logger), address: databaseAddress(deps.advertise) }),
  });
  // A child that exits wakes its instance at once instead of at the next liveness poll (an exporter, its instance's exporter).
  supervisor.onExit((pid) => {
    void store.list<Instance>("Instance").then((list) => {
      for (const instance of list.items) {
        if (instance.spec.nodeName !== deps.nodeName) continue;
        if (instance.status?.pid === pid) instances.enqueue(keyOf(instance));
        if (instance.status?.exporter?.pid === pid) exporters.enqueue(keyOf(instance));
      }
    });
  });
  return [instances, exporters, createEndpointController(deps), ...createBackupAgentControllers(deps)];
}

/**
 * The control plane's controllers: they run on the elected node only, each term over a store fenced by its lease
 * (see src/controlplane/leader-election.ts). Start them with `start()`.
 */
export function createControllers(deps: ControllerDeps): Controller[] {
  const { store, logger } = deps;
  const clusters = new Controller({
    name: "cluster",
    store,
    logger,
    watches: [{ kind: "Cluster" }, { kind: "Instance", keysFor: ownerKeys("Cluster") }, { kind: "Secret", keysFor: ownerKeys("Cluster") }],
    reconciler: new ClusterReconciler({
      store,
      engines: deps.engines,
      events: createEventRecorder(store, "cluster-controller", logger),
      allocatePort: (inUse) => deps.ports.allocate(DATABASE_PORT_RANGE, inUse),
      releaseOsUser: (name) => deps.users.remove(name),
    }),
  });
  const ops = new Controller({
    name: "opsrequest",
    store,
    logger,
    watches: [{ kind: "OpsRequest" }],
    reconciler: new OpsRequestReconciler({ store, events: createEventRecorder(store, "ops-controller", logger), engines: deps.engines }),
  });
  const namespaces = new Controller({ name: "namespace", store, logger, watches: [{ kind: "Namespace" }], reconciler: new NamespaceReconciler(store) });
  const users = new Controller({
    name: "databaseuser",
    store,
    logger,
    watches: [{ kind: "DatabaseUser" }],
    reconciler: new DatabaseUserReconciler({ store, engines: deps.engines, events: createEventRecorder(store, "databaseuser-controller", logger) }),
  });
  const databases = new Controller({
    name: "database",
    store,
    logger,
    watches: [{ kind: "Database" }],
    reconciler: new DatabaseReconciler({ store, engines: deps.engines, events: createEventRecorder(store, "database-controller", logger) }),
  });
  const detection = deps.detection?.enabled === true ? [createDetector({ store, settings: deps.detection, logger })] : [];
  return [namespaces, clusters, ops, users, databases, createNodeLifecycleController(deps), createHaController(deps), ...createDataProtectionControllers(deps), ...detection];
}
