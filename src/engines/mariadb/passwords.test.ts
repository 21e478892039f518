import assert from "node:assert/strict";
import { test } from "node:test";
import { ed25519AuthString, nativePasswordAuthString } from "./auth-hash.ts";
import { changePasswordSql, replicationPasswordSql } from "./passwords.ts";

test("root and managed users get an ed25519 authentication string, never the plaintext", () => {
  const sql = changePasswordSql({ username: "root", password: "s3cret'pw" });
  assert.equal(sql, `ALTER USER IF EXISTS 'root'@'%' IDENTIFIED VIA ed25519 USING '${ed25519AuthString("s3cret'pw")}';\n`);
  assert.ok(!sql.includes("s3cret"));
});

test("the replication account keeps mysql_native_password", () => {
  const sql = changePasswordSql({ username: "kbreplicator", password: "pw" });
  assert.equal(sql, `ALTER USER IF EXISTS 'kbreplicator'@'%' IDENTIFIED VIA mysql_native_password USING '${nativePasswordAuthString("pw")}';\n`);
});

test("a replica's replication password is set with its threads stopped, quoted", () => {
  assert.equal(replicationPasswordSql("a'b\\c"), "STOP SLAVE;\nCHANGE MASTER TO MASTER_PASSWORD = 'a\\'b\\\\c';\nSTART SLAVE;\n");
});
