/**
 * The `datafile` backup method: an RDB snapshot (`dump.rdb`) received over the replication protocol. Restore
 * installs it as the base of Redis 7's multi-part AOF, because with `appendonly yes` Redis loads the AOF and
 * ignores a dump.rdb beside it.
 */
import { join } from "node:path";
import { InvalidError } from "../../errors/index.ts";
import { markerContent, markerPath } from "../marker.ts";
import type { BackupContext, BackupMethodDefinition, BackupSink, BackupSource, Credentials, HostAccess, InstanceContext } from "../types.ts";
import { configureRedis } from "./initialize.ts";
import { loopbackTarget } from "./socket.ts";
import { syncRdb } from "./sync-rdb.ts";

/** The stream a datafile backup consists of. */
export const DUMP_RDB = "dump.rdb";

/** Where Redis looks for its AOF in the data directory, honouring `appenddirname` and `appendfilename`. */
export function aofLayout(parameters: Readonly<Record<string, string>>): { directory: string; base: string; manifest: string } {
  const directory = unquote(parameters["appenddirname"] ?? "appendonlydir");
  const file = unquote(parameters["appendfilename"] ?? "appendonly.aof");
  return { directory, base: `${file}.1.base.rdb`, manifest: `${file}.manifest` };
}

/** The AOF manifest naming the restored RDB as the only (base) file. */
export function aofManifest(base: string): string {
  return `file ${base} seq 1 type b\n`;
}

function unquote(value: string): string {
  return value.replace(/^"(.*)"$/, "$1");
}

async function backup(context: BackupContext, sink: BackupSink): Promise<void> {
  // Over TLS on loopback when the instance has it (its only port then), checked against its CA.
  const target = loopbackTarget(context.instance.port, context.instance.tls?.caFile);
  await sink.writeStream(DUMP_RDB, syncRdb(target, context.account, context.signal));
}

async function restore(context: InstanceContext, source: BackupSource, accounts: readonly Credentials[], host: HostAccess): Promise<void> {
  if (Number(context.version.major) < 7) {
    throw new InvalidError(`restoring a Redis datafile backup needs Redis 7 or newer (multi-part AOF); this instance runs ${context.version.version}`);
  }
  const aof = aofLayout(context.parameters);
  const directory = join(context.dataDirectory, aof.directory);
  await host.mkdir(directory);
  await host.writeFileFrom(join(directory, aof.base), source.openStream(DUMP_RDB), 0o600);
  await host.writeFile(join(directory, aof.manifest), aofManifest(aof.base), 0o600);
  await configureRedis(context, accounts, host);
  await host.writeFile(markerPath(context.dataDirectory), markerContent(), 0o600);
}

/** The datafile method, from a replica when there is one, else the primary (KubeBlocks' template). */
export const REDIS_DATAFILE: BackupMethodDefinition = {
  name: "datafile",
  description: "RDB snapshot received over the replication protocol",
  targetRole: "secondary",
  fallbackRole: "primary",
  backup,
  restore,
};
