import { test } from "node:test";
import assert from "node:assert/strict";
import { InvalidError } from "../../errors/index.ts";
import { BACKUP_PRIVILEGES, bootstrapAccountsSql, ensureAccountsSql, sqlString, systemAccountGrants } from "./accounts-sql.ts";

void test("string literals escape quotes, backslashes and control characters", () => {
  assert.equal(sqlString("plain"), "'plain'");
  assert.equal(sqlString(`a'b"c\\d`), `'a\\'b\\"c\\\\d'`);
  assert.equal(sqlString("x\ny\0z"), "'x\\ny\\0z'");
});

void test("bootstrap drops every default account and the test database, then creates ed25519 accounts for any host", () => {
  const sql = bootstrapAccountsSql([{ username: "root", password: "p'w" }, { username: "kbreplicator", password: "r" }]);
  const lines = sql.trim().split("\n");
  assert.equal(lines[0], "FLUSH PRIVILEGES;");
  assert.ok(lines.includes("DELETE FROM mysql.global_priv WHERE NOT (User = 'mariadb.sys' AND Host = 'localhost');"));
  assert.ok(lines.includes("DELETE FROM mysql.proxies_priv;"), "no proxy grant (root's socket proxy) survives");
  assert.ok(lines.includes("DROP DATABASE IF EXISTS test;"));
  assert.ok(lines.includes("CREATE USER 'root'@'%' IDENTIFIED VIA ed25519 USING PASSWORD('p\\'w');"));
  assert.ok(lines.includes("GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;"));
  assert.ok(lines.includes("CREATE USER 'kbreplicator'@'%' IDENTIFIED VIA ed25519 USING PASSWORD('r');"));
  assert.equal(lines.filter((l) => l.startsWith("GRANT")).length, 1, "only the administrator gets privileges");
  assert.ok(!/unix_socket/.test(sql));
});

void test("no account without a password, no odd account name, not no account", () => {
  assert.throws(() => bootstrapAccountsSql([{ username: "root", password: "" }]), InvalidError);
  assert.throws(() => bootstrapAccountsSql([{ username: "root'@'%", password: "x" }]), InvalidError);
  assert.throws(() => bootstrapAccountsSql([]), InvalidError);
});

void test("the backup account gets only the rights mariabackup, mariadb-dump and the binlog archiver need", () => {
  const sql = bootstrapAccountsSql([{ username: "root", password: "a" }, { username: "kbdataprotection", password: "b" }]);
  assert.ok(sql.includes("CREATE USER 'kbdataprotection'@'%' IDENTIFIED VIA ed25519 USING PASSWORD('b');"));
  const grant = sql.split("\n").filter((line) => line.includes("TO 'kbdataprotection'"));
  assert.deepEqual(grant, ["GRANT SELECT, SHOW VIEW, TRIGGER, EVENT, LOCK TABLES, RELOAD, PROCESS, BINLOG MONITOR, SLAVE MONITOR ON *.* TO 'kbdataprotection'@'%';"]);
  for (const writes of ["ALL", "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER", "SUPER", "GRANT OPTION", "FILE"]) assert.ok(!BACKUP_PRIVILEGES.split(", ").includes(writes), writes);
  assert.deepEqual(systemAccountGrants("kbreplicator", 1), [], "an account without rights of its own gets none here");
});

void test("a running server is given the accounts after the administrator, idempotently and out of the binlog", () => {
  const sql = ensureAccountsSql([{ username: "root", password: "rootpw" }, { username: "kbdataprotection", password: "b'q" }]);
  const lines = sql.trim().split("\n");
  assert.equal(lines[0], "SET SESSION sql_log_bin = 0;");
  assert.ok(lines.includes("CREATE USER IF NOT EXISTS 'kbdataprotection'@'%' IDENTIFIED VIA ed25519 USING PASSWORD('b\\'q');"));
  assert.ok(lines.includes("ALTER USER 'kbdataprotection'@'%' IDENTIFIED VIA ed25519 USING PASSWORD('b\\'q');"));
  assert.ok(lines.some((line) => line.startsWith("GRANT SELECT, SHOW VIEW") && line.endsWith("TO 'kbdataprotection'@'%';")));
  assert.ok(!sql.includes("root"), "the administrator, who runs it, is left alone");
  assert.equal(ensureAccountsSql([{ username: "root", password: "x" }]).trim(), "SET SESSION sql_log_bin = 0;");
});
