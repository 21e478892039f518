import { test } from "node:test";
import assert from "node:assert/strict";
import type { InstanceContext } from "../types.ts";
import { backupOptionFile } from "./mariabackup.ts";
import { DUMP_STREAM, MARIADB_DUMP_METHOD, databasesToDump, dumpCommand } from "./mariadb-dump.ts";
import { createMariadbEngine } from "./index.ts";

const context: InstanceContext = {
  instanceName: "mdb-mariadb-0", rootDirectory: "/h/i", dataDirectory: "/h/i/data", runDirectory: "/h/i/run", port: 19501,
  version: { version: "10.11.19", major: "10.11", binDir: "/usr/sbin" }, parameters: {}, role: "primary",
};

void test("the system schemas are left out of a dump, whatever their case; the rest sorted", () => {
  assert.deepEqual(databasesToDump(["mysql", "app", "information_schema", "Performance_Schema", "sys", "", "-odd", "other"]), ["-odd", "app", "other"]);
  assert.deepEqual(databasesToDump(["mysql", "sys"]), []);
});

void test("mariadb-dump: one consistent snapshot with routines, events and triggers, over the socket, no secret in argv", () => {
  const command = dumpCommand(context, "/scratch/d.cnf", ["app", "-odd"]);
  assert.match(command.command, /mariadb-dump$/);
  assert.equal(command.args[0], "--defaults-extra-file=/scratch/d.cnf");
  for (const flag of ["--single-transaction", "--routines", "--events", "--triggers", "--hex-blob", "--protocol=SOCKET", "--socket=/h/i/run/mariadbd.sock"]) assert.ok(command.args.includes(flag), flag);
  assert.ok(!command.args.includes("--all-databases"), "the system schemas are never dumped");
  assert.deepEqual(command.args.slice(-4), ["--databases", "--", "app", "-odd"], "a database named like an option stays a name");
  assert.ok(!/password/i.test(JSON.stringify(command)));
  assert.throws(() => dumpCommand(context, "/scratch/d.cnf", []), /at least one database/);
});

void test("the method is listed by the engine, and the BackupPolicy's account is the backup account, not the administrator", () => {
  const engine = createMariadbEngine();
  assert.deepEqual(engine.backupMethods.map((m) => m.name), ["mariabackup", "mariadb-dump", "archive-binlog"]);
  assert.equal(MARIADB_DUMP_METHOD.targetRole, "secondary");
  assert.equal(DUMP_STREAM, "dump.sql");
  assert.equal(engine.backupAccount, "kbdataprotection");
  assert.deepEqual(engine.systemAccounts.map((a) => a.name), ["root", "kbdataprotection"]);
});

void test("mariabackup's option file holds the backup account only: the administrator's password is not in it", () => {
  const options = backupOptionFile(context, { username: "kbdataprotection", password: "backup-pw" });
  assert.match(options, /user = "kbdataprotection"\npassword = "backup-pw"\n/);
  assert.ok(!options.includes("root"));
});
