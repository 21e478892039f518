/** `holdfast logs INSTANCE`: a database's own log, read by the node agent of the instance's node (RBAC get instances/log). */
import { UsageError, boolFlag, expectPositionals, intFlag, namespaceOf, parseDuration, parseFlags, stringFlag } from "./args.ts";
import type { FlagValues } from "./args.ts";
import { clientOf } from "./context.ts";
import type { CliContext } from "./context.ts";

export const LOGS_HELP = `Print the log of a database instance (PostgreSQL's, Redis' or MariaDB's own log), as kubectl logs does for a pod.

Usage:
  holdfast logs INSTANCE [-n NAMESPACE] [-f] [--tail N] [--since DURATION] [-c database|exporter|audit]

Reading a log needs get on instances/log (the edit and admin roles have it, view does not);
every read is audited. The log is read by the node agent of the node the instance runs on.

Examples:
  holdfast logs pg-postgresql-0
  holdfast logs pg-postgresql-0 --tail 50 -f
  holdfast logs pg-postgresql-0 --since 10m
  holdfast logs pg-postgresql-0 -c exporter
  holdfast logs mariadb-cluster-mariadb-0 -c audit --since 1h

Options:
  -f, --follow            Keep printing what is written (Ctrl-C to stop)
      --tail N            Only the last N lines (default: everything, up to the last 8 MiB)
      --since DURATION    Only lines written in the last DURATION (5m, 1h), by the engine's timestamps
  -c, --container NAME    database (default); exporter (the instance's metrics exporter, when it runs one);
                          audit (MariaDB's connection log: who logged in or was refused, from where; never a
                          statement or a password)
`;

const LOGS_FLAGS = {
  namespace: { type: "string", short: "n" },
  follow: { type: "boolean", short: "f" },
  tail: { type: "string" },
  since: { type: "string" },
  container: { type: "string", short: "c" },
} as const;

/** The API path of an instance's log for these flags. */
export function logPath(namespace: string, instance: string, values: FlagValues): string {
  const query = new URLSearchParams();
  if (stringFlag(values, "tail") !== undefined) query.set("tailLines", String(intFlag(values, "tail", 0, "logs")));
  const since = stringFlag(values, "since");
  if (since !== undefined) query.set("sinceSeconds", String(Math.max(1, Math.ceil(parseDuration(since) / 1000))));
  if (boolFlag(values, "follow")) query.set("follow", "true");
  const container = stringFlag(values, "container");
  if (container !== undefined) query.set("container", container);
  const base = `/apis/holdfast.io/v1alpha1/namespaces/${encodeURIComponent(namespace)}/instances/${encodeURIComponent(instance)}/log`;
  return query.size === 0 ? base : `${base}?${query.toString()}`;
}

/** Run `holdfast logs`. */
export async function runLogs(ctx: CliContext, argv: readonly string[]): Promise<number> {
  const args = parseFlags(argv, LOGS_FLAGS, "logs");
  if (boolFlag(args.values, "help")) {
    ctx.io.out(LOGS_HELP);
    return 0;
  }
  const [instance = ""] = expectPositionals(args, ["INSTANCE"], "logs");
  if (instance.includes("/")) throw new UsageError("give the instance's name (holdfast get instances); the namespace goes in -n", "logs");
  const client = clientOf(ctx, args.values);
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once("SIGINT", stop);
  try {
    for await (const text of client.streamText(logPath(namespaceOf(args.values), instance, args.values), controller.signal)) ctx.io.out(text);
  } catch (error) {
    if (!controller.signal.aborted) throw error;
  } finally {
    process.off("SIGINT", stop);
  }
  return 0;
}
