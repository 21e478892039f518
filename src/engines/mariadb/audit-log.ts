/**
 * MariaDB's connection log: the `server_audit` plugin (shipped with the server) writing CONNECT events only to a file
 * beside the data directory, owned by the instance's OS user (0600), rotated by size and bounded. A line is
 *
 *     20261207 02:16:32,vm,root,127.0.0.1,11,0,CONNECT,,,0
 *
 * time (the server's local time, to the second), server host, user, client address (`localhost` over the socket; no
 * client port), connection id, query id, operation (CONNECT, FAILED_CONNECT, CHANGEUSER, DISCONNECT), database,
 * object, return code (0, or the error: 1045 for a refused password). Never a password or a statement: QUERY events
 * are not logged.
 */
import { join } from "node:path";
import type { DatabaseLogin, InstanceLayout } from "../types.ts";

/** The audit log: `<instance>/log/audit.log` (the directory the instance's OS user owns, 0700). */
export function mariadbAuditLogPath(layout: InstanceLayout): string {
  return join(layout.rootDirectory, "log", "audit.log");
}

/** The audit log and the name the plugin renames it to when it rotates it (`audit.log.1`, the older ones `.2`, `.3`). */
export function mariadbAuditLogFiles(layout: InstanceLayout): { path: string; rotated: string } {
  const path = mariadbAuditLogPath(layout);
  return { path, rotated: `${path}.1` };
}

/**
 * Rotated at this size, keeping this many old files: at most 4 × 8 MiB (it counts in the instance's storage use, as on
 * a pod's volume), about 150,000 connections (a CONNECT and a DISCONNECT line each): two days of probes.
 */
const ROTATE_BYTES = 8 * 1024 * 1024;
const ROTATIONS = 3;

/** The my.cnf lines that turn the connection log on (the plugin cannot be unloaded while the server runs). */
export function auditLogLines(layout: InstanceLayout): string[] {
  return [
    "plugin-load-add = server_audit",
    "server-audit = FORCE_PLUS_PERMANENT",
    "server-audit-events = CONNECT",
    "server-audit-output-type = file",
    `server-audit-file-path = ${mariadbAuditLogPath(layout)}`,
    `server-audit-file-rotate-size = ${ROTATE_BYTES}`,
    `server-audit-file-rotations = ${ROTATIONS}`,
    "server-audit-logging = ON",
  ];
}

/** Server options that keep a private server (clone, restore) out of the instance's audit log: it is not the instance. */
export const AUDIT_LOG_OFF = "--server-audit-logging=OFF";

// time, server host, user (may hold commas), address, connection id, query id, operation, database, object, code.
const LINE = /^(\d{4})(\d{2})(\d{2}) (\d{2}):(\d{2}):(\d{2}),[^,]*,(.*),([^,]*),(\d+),\d+,(CONNECT|CHANGEUSER|FAILED_CONNECT|DISCONNECT),([^,]*),.*,(\d+)$/u;

/** One connection event of the audit log. */
export interface AuditConnection {
  login: DatabaseLogin;
  /** True for a login the server accepted (CONNECT or CHANGEUSER with code 0). */
  succeeded: boolean;
}

/** The connection event of one line, or undefined for any other line (DISCONNECT, or not the plugin's). */
export function parseAuditLine(line: string): AuditConnection | undefined {
  const match = LINE.exec(line.trimEnd());
  if (match === null) return undefined;
  const [, year, month, day, hour, minute, second, user = "", host = "", id, operation, database = "", code] = match;
  if (operation === "DISCONNECT") return undefined;
  const time = new Date(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second)).getTime();
  const login: DatabaseLogin = { time: Number.isNaN(time) ? undefined : time, user, database, applicationName: "", host, port: 0, connectionId: Number(id) };
  return { login, succeeded: operation !== "FAILED_CONNECT" && code === "0" };
}

/** A parser of the audit log fed chunk by chunk: a line cut between two chunks is read once it is whole. */
export function createMariadbAuditParser(): { read(chunk: string): DatabaseLogin[] } {
  let partial = "";
  return {
    read(chunk: string): DatabaseLogin[] {
      const lines = (partial + chunk).split("\n");
      partial = lines.pop() ?? "";
      return lines.flatMap((line) => {
        const event = parseAuditLine(line);
        if (event === undefined) return [];
        return [event.succeeded ? event.login : { ...event.login, refused: true as const }];
      });
    },
  };
}
