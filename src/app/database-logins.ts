/** The node agent's watch of database superuser logins and refused logins, wired to the audit log (whose feed hands them to the rules). */
import type { Instance } from "../api/index.ts";
import { DatabaseLoginWatch, type DatabaseLogin } from "../agent/index.ts";
import type { HomePaths } from "../config/index.ts";
import { HOLDFAST_SESSIONS, type Engine } from "../engines/index.ts";
import type { AuditEventInput, AuditLog } from "../security/index.ts";
import type { Store } from "../store/index.ts";
import type { Logger } from "../util/index.ts";

/**
 * The audit event of a superuser login Holdfast did not make, or of a login the server refused: who (the database
 * account), from where, on what. `omitted`: refused logins of the same read not recorded one by one.
 */
export function databaseLoginEvent(instance: Instance, login: DatabaseLogin, nodeName: string, omitted = 0): AuditEventInput {
  const time = new Date(login.time ?? Date.now()).toISOString();
  const refused = login.refused === true;
  return {
    verb: "login",
    user: { username: `database:${login.user}`, groups: [] },
    sourceIPs: login.host === "" ? [] : [login.host],
    userAgent: `holdfast-node-agent/${nodeName} (database log)`,
    objectRef: { resource: "instances", subresource: "login", apiGroup: "holdfast.io", namespace: instance.metadata.namespace ?? "default", name: instance.metadata.name },
    responseStatus: { code: refused ? 401 : 200, message: refused ? refusedMessage(instance, login, omitted) : loginMessage(instance, login) },
    requestReceivedTimestamp: time,
    authentication: refused ? { outcome: "failure", method: "database-password", reason: "refused by the database" } : { outcome: "success", method: "database-password" },
  };
}

/** What the event says of the login: the engine, the account, the database, the name the client gave and the server's connection id, when known. */
function loginMessage(instance: Instance, login: DatabaseLogin): string {
  return `${instance.spec.engine} superuser ${login.user} logged in${details(login)}`;
}

function refusedMessage(instance: Instance, login: DatabaseLogin, omitted: number): string {
  const more = omitted === 0 ? "" : `; ${omitted} more refused login(s) in the same read of the log, not recorded one by one`;
  return `${instance.spec.engine} refused a login as ${login.user}${details(login)}${more}`;
}

function details(login: DatabaseLogin): string {
  const database = login.database === "" ? "" : ` to database ${login.database}`;
  const name = login.applicationName === "" ? "" : ` (client name ${login.applicationName})`;
  const connection = login.connectionId === undefined ? "" : ` (connection ${login.connectionId})`;
  return `${database}${name}${connection}`;
}

/** Start watching the superuser logins and refused logins of the instances bound to this node whose engine tells them (when detections are on). */
export function startDatabaseLoginWatch(options: { store: Store; paths: HomePaths; nodeName: string; logger: Logger; audit: AuditLog; engine(name: string): Engine | undefined }): { stop(): void } {
  const { audit, nodeName, logger } = options;
  const watch = new DatabaseLoginWatch({
    ...options,
    own: HOLDFAST_SESSIONS,
    async record(instance, login, omitted) {
      const fields = { instance: instance.metadata.name, namespace: instance.metadata.namespace, user: login.user, host: login.host };
      if (login.refused === true) logger.info({ ...fields, ...(omitted === undefined || omitted === 0 ? {} : { omitted }) }, "database login refused");
      else logger.warn(fields, "database superuser login not made by Holdfast");
      await audit.append(databaseLoginEvent(instance, login, nodeName, omitted));
    },
  });
  watch.start();
  return watch;
}
