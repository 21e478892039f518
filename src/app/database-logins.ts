/** The node agent's watch of database superuser logins, wired to the audit log (whose feed hands them to the rules). */
import type { Instance } from "../api/index.ts";
import { DatabaseLoginWatch, type DatabaseLogin } from "../agent/index.ts";
import type { HomePaths } from "../config/index.ts";
import { HOLDFAST_SESSIONS } from "../engines/index.ts";
import type { AuditEventInput, AuditLog } from "../security/index.ts";
import type { Store } from "../store/index.ts";
import type { Logger } from "../util/index.ts";

/** The audit event of a superuser login Holdfast did not make: who (the database account), from where, on what. */
export function databaseLoginEvent(instance: Instance, login: DatabaseLogin, nodeName: string): AuditEventInput {
  const time = new Date(login.time ?? Date.now()).toISOString();
  return {
    verb: "login",
    user: { username: `database:${login.user}`, groups: [] },
    sourceIPs: login.host === "" ? [] : [login.host],
    userAgent: `holdfast-node-agent/${nodeName} (database log)`,
    objectRef: { resource: "instances", subresource: "login", apiGroup: "holdfast.io", namespace: instance.metadata.namespace ?? "default", name: instance.metadata.name },
    responseStatus: { code: 200, message: `${instance.spec.engine} superuser ${login.user} logged in to database ${login.database}${login.applicationName === "" ? "" : ` (application_name ${login.applicationName})`}` },
    requestReceivedTimestamp: time,
    authentication: { outcome: "success", method: "database-password" },
  };
}

/** Start watching the logs of the PostgreSQL instances bound to this node (when detections are on). */
export function startDatabaseLoginWatch(options: { store: Store; paths: HomePaths; nodeName: string; logger: Logger; audit: AuditLog }): { stop(): void } {
  const { audit, nodeName, logger } = options;
  const watch = new DatabaseLoginWatch({
    ...options,
    own: HOLDFAST_SESSIONS,
    async record(instance, login) {
      logger.warn({ instance: instance.metadata.name, namespace: instance.metadata.namespace, user: login.user, host: login.host }, "database superuser login not made by Holdfast");
      await audit.append(databaseLoginEvent(instance, login, nodeName));
    },
  });
  watch.start();
  return watch;
}
