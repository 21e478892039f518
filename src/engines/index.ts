/** Engines: the contract, the built-in PostgreSQL, Redis and MariaDB modules, and the catalog that holds them. */
import { createPostgresqlEngine } from "./postgresql/index.ts";
import { createRedisEngine } from "./redis/index.ts";
import { createMariadbEngine } from "./mariadb/index.ts";
import type { Engine } from "./types.ts";

export type * from "./types.ts";
export { createPostgresqlEngine } from "./postgresql/index.ts";
export { HOLDFAST_SESSIONS, OwnSessions } from "./own-sessions.ts";
export { lineTime } from "./log-time.ts";
export { createRedisEngine } from "./redis/index.ts";
export { createMariadbEngine } from "./mariadb/index.ts";
export { EngineCatalog, type EngineCatalogOptions } from "./catalog.ts";
export { generatePassword, generatePasswordWith, passwordPolicyConflict, passwordPolicyProblem, type PasswordPolicy } from "./password.ts";
export { compareVersions, matchVersion, newestFirst } from "./version.ts";
export { parameterPolicy, parameterProblem, rollingOrder, type EngineParameters, type ParameterDefinition, type ParameterPolicy, type RollingOrder } from "./parameter-schema.ts";

/** A fresh instance of every engine Holdfast ships. */
export function builtinEngines(): Engine[] {
  return [createPostgresqlEngine(), createRedisEngine(), createMariadbEngine()];
}
export { LOOPBACK, clientAddresses, userCertificateNames, databaseAddress, listenAddresses, peerServer, verifyingTlsOptions, type PeerServer } from "./address.ts";
export { exists } from "./marker.ts";
export { engineAccountNames, engineAction } from "./action-arguments.ts";
export { customSteps, type CustomSteps } from "./custom-steps.ts";
