import { test } from "node:test";
import assert from "node:assert/strict";
import { withoutStatementText } from "./client.ts";
import { changeMasterSql, followSql, promoteSql, replicationAccountSql, semiSyncOptions, SEMI_SYNC_TIMEOUT_MS, setGlobalSql } from "./replication-sql.ts";
import { replicaInitSql, roleLines } from "./replication-role.ts";
import type { InstanceContext } from "../types.ts";

const replication = { username: "replicator", password: "s'cr\\et" };
const upstream = { host: "127.0.64.2", port: 19241 };

void test("the replication account gets REPLICATION SLAVE and REPLICATION CLIENT only, outside the binlog", () => {
  const sql = replicationAccountSql(replication);
  const lines = sql.split("\n");
  assert.equal(lines[0], "SET SESSION sql_log_bin = 0;", "the password is not written to the binlog");
  assert.ok(lines.includes("GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'replicator'@'%';"));
  assert.ok(sql.includes("IDENTIFIED VIA mysql_native_password USING PASSWORD('s\\'cr\\\\et')"), "the password is quoted");
  assert.ok(!/GRANT ALL|SUPER|WITH GRANT OPTION/.test(sql));
});

void test("CHANGE MASTER uses GTIDs and verified TLS; without a CA (the engine alone) no TLS", () => {
  const sql = changeMasterSql({ upstream, account: replication, caFile: "/run/ca.pem" });
  for (const part of ["MASTER_HOST = '127.0.64.2'", "MASTER_PORT = 19241", "MASTER_USE_GTID = slave_pos", "MASTER_SSL = 1", "MASTER_SSL_CA = '/run/ca.pem'", "MASTER_SSL_VERIFY_SERVER_CERT = 1", "MASTER_USER = 'replicator'"]) {
    assert.ok(sql.includes(part), part);
  }
  assert.ok(changeMasterSql({ upstream, account: replication, caFile: undefined }).includes("MASTER_SSL = 0"));
  assert.deepEqual(followSql({ upstream, account: replication, caFile: undefined }).split("\n").filter((l) => l !== "").map((l) => l.split(" ").slice(0, 2).join(" ")), ["STOP SLAVE;", "CHANGE MASTER", "START SLAVE;"]);
});

void test("semi-synchronous: AFTER_SYNC, both sides, a timeout that never falls back in practice; off turns both sides off", () => {
  const on = semiSyncOptions({ mode: "synchronous", quorum: 1 }, "primary");
  assert.equal(semiSyncOptions({ mode: "synchronous", quorum: 1 }, "secondary")["rpl_semi_sync_master_enabled"], "OFF", "a replica never waits for acknowledgements itself");
  assert.equal(semiSyncOptions({ mode: "synchronous", quorum: 1 }, "secondary")["rpl_semi_sync_slave_enabled"], "ON");
  assert.equal(promoteSql({ mode: "synchronous", quorum: 1 }), "STOP SLAVE; RESET SLAVE ALL; SET GLOBAL rpl_semi_sync_master_enabled = ON; SET GLOBAL read_only = 0;", "it waits before it accepts a write");
  assert.equal(promoteSql({ mode: "asynchronous" }), "STOP SLAVE; RESET SLAVE ALL; SET GLOBAL read_only = 0;");
  assert.equal(on["rpl_semi_sync_master_wait_point"], "AFTER_SYNC");
  assert.equal(on["rpl_semi_sync_master_enabled"], "ON");
  assert.equal(on["rpl_semi_sync_slave_enabled"], "ON");
  assert.ok(Number(on["rpl_semi_sync_master_timeout"]) >= 365 * 24 * 3600 * 1000);
  assert.equal(Number(on["rpl_semi_sync_master_timeout"]), SEMI_SYNC_TIMEOUT_MS);
  const off = semiSyncOptions({ mode: "asynchronous" }, "primary");
  assert.equal(off["rpl_semi_sync_master_enabled"], "OFF");
  assert.match(setGlobalSql({ a: "ON", b: "5" }), /^SET GLOBAL a = ON; SET GLOBAL b = 5;$/);
});

const context = { instanceName: "m-mariadb-1", port: 19242, runDirectory: "/run/m1", dataDirectory: "/data/m1" } as InstanceContext;

void test("a replica starts read-only with its init file; a primary writable without one; both report their instance name", () => {
  const replica = roleLines(context, "secondary", { mode: "asynchronous" });
  assert.ok(replica.includes("read-only = ON"));
  assert.ok(replica.includes("init-file = /run/m1/replica-init.sql"));
  assert.ok(replica.includes("report-host = m-mariadb-1"));
  assert.ok(replica.includes("skip-slave-start"));
  const primary = roleLines(context, "primary", { mode: "synchronous", quorum: 1 });
  assert.ok(primary.includes("read-only = OFF"));
  assert.ok(!primary.some((l) => l.startsWith("init-file")));
  assert.ok(primary.includes("rpl_semi_sync_master_enabled = ON"));
  assert.ok(roleLines(context, "secondary", { mode: "synchronous", quorum: 1 }).includes("rpl_semi_sync_master_enabled = OFF"));
});

void test("a replica continues from its binlog when it holds any (a former primary's own writes included), else from the dump's position", () => {
  const credentials = { admin: { username: "root", password: "r" }, replication };
  const lines = replicaInitSql({ role: "secondary", upstream }, credentials, "/ca").split("\n");
  assert.equal(lines[0], "SET GLOBAL gtid_slave_pos = IF(@@GLOBAL.gtid_binlog_pos = '', @@GLOBAL.gtid_slave_pos, @@GLOBAL.gtid_binlog_pos);");
  assert.match(lines[1] ?? "", /^CHANGE MASTER TO .*;$/, "one statement a line, as the init file is read");
  assert.equal(lines[2], "START SLAVE;");
});

void test("an error quoting the statement leaves its text (and any password in it) out", () => {
  const error = "ERROR 1064 (42000) at line 2: You have an error in your SQL syntax; check the manual near 'MASTER_PASSWORD = 'secret'' at line 1";
  assert.ok(!withoutStatementText(error).includes("secret"));
  assert.equal(withoutStatementText("ERROR 1045 (28000): Access denied"), "ERROR 1045 (28000): Access denied");
});
