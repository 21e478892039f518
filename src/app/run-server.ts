/** Start the control plane: store, keyring, engines, controllers and the API server, in one process. */
import { mkdir } from "node:fs/promises";
import type { Namespace } from "../api/index.ts";
import { homePaths, type HomePaths } from "../config/index.ts";
import { AlreadyExistsError, InvalidError, UnavailableError } from "../errors/index.ts";
import { builtinEngines, EngineCatalog } from "../engines/index.ts";
import { ensureServiceUser, ensureTraversable, type ServiceUser } from "../runtime/index.ts";
import { createSecretCodec, loadOrCreateKeyring } from "../security/index.ts";
import { createApiServer } from "../server/index.ts";
import { openSqliteStore, type Store } from "../store/index.ts";
import { createLogger, type Logger } from "../util/index.ts";
import { createControllers } from "./controllers.ts";
import { isOtherServerAlive, readServerInfo, removeServerInfo, writeServerInfo } from "./server-info.ts";

export interface RunServerOptions {
  home: string;
  host: string;
  port: number;
  logLevel?: string;
  logger?: Logger;
}

/** A running control plane. */
export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/** The package version, shown by `/version`. */
export const VERSION = "0.1.0";

/** Start everything; databases already running are re-adopted, never restarted. */
export async function runServer(options: RunServerOptions): Promise<RunningServer> {
  assertLoopback(options.host);
  const logger = options.logger ?? createLogger({ level: options.logLevel ?? "info" });
  const paths = homePaths(options.home);
  await guardSingleServer(paths);
  const user = await prepareHome(paths, logger);
  const keyring = await loadOrCreateKeyring(paths.secretKeyring);
  const store = openSqliteStore({ path: paths.store, codec: createSecretCodec(keyring) });
  await ensureDefaultNamespace(store);
  const engines = new EngineCatalog(builtinEngines());
  const controllers = createControllers({ store, engines, user, paths, logger });
  for (const controller of controllers) await controller.start();
  const api = createApiServer({ store, engines, logger, version: VERSION });
  const { url } = await api.listen(options.host, options.port);
  await writeServerInfo(paths.serverInfo, { url, pid: process.pid, startedAt: new Date().toISOString() });
  logger.info({ url, home: paths.home, serviceUser: user.name }, "holdfast server started");
  return {
    url,
    async close() {
      await api.close();
      for (const controller of controllers) await controller.stop();
      store.close();
      await removeServerInfo(paths.serverInfo);
      logger.info("holdfast server stopped; databases keep running and are re-adopted at the next start");
    },
  };
}

/** Until authentication lands, the API must not be reachable from other machines. */
export function assertLoopback(host: string): void {
  const loopback = host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
  if (!loopback) {
    throw new InvalidError(`refusing to listen on ${host}: the API has no authentication yet, so it listens on loopback only (127.0.0.1, ::1)`, {
      causes: [{ field: "--listen", message: "must be a loopback address" }],
    });
  }
}

async function guardSingleServer(paths: HomePaths): Promise<void> {
  const info = await readServerInfo(paths.serverInfo);
  if (isOtherServerAlive(info)) {
    throw new UnavailableError(`another holdfast server (pid ${info?.pid ?? "?"}) is already running for ${paths.home}; stop it with holdfast server stop`);
  }
}

/** The home (0700), its logs, and an instances directory the service user can reach. */
async function prepareHome(paths: HomePaths, logger: Logger): Promise<ServiceUser> {
  await mkdir(paths.home, { recursive: true, mode: 0o700 });
  await mkdir(paths.instanceLogsDir, { recursive: true, mode: 0o750 });
  await mkdir(paths.instancesDir, { recursive: true, mode: 0o711 });
  const user = await ensureServiceUser();
  const changed = await ensureTraversable(paths.instancesDir, user);
  if (changed.length > 0) logger.info({ directories: changed, user: user.name }, "granted the service user search permission (ACL) on the path to the instances directory");
  return user;
}

async function ensureDefaultNamespace(store: Store): Promise<void> {
  const namespace: Namespace = { apiVersion: "v1", kind: "Namespace", metadata: { name: "default" } };
  try {
    await store.create(namespace);
  } catch (error) {
    if (!(error instanceof AlreadyExistsError)) throw error;
  }
}
