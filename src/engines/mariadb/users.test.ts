import assert from "node:assert/strict";
import { test } from "node:test";
import { applyUserSql, grantObject, mariadbGrantProblems, mariadbGrantSchema, mariadbUsernameProblem, quoteIdentifier, sessionsSql } from "./users.ts";

test("grants of a database or one table, with allowed privileges, are valid; table defaults to *", () => {
  assert.deepEqual(mariadbGrantProblems([{ database: "app", privileges: ["SELECT", "INSERT"] }, { database: "app", table: "orders", privileges: ["SELECT"] }]), []);
  assert.equal(mariadbGrantSchema.parse({ database: "app", privileges: ["SELECT"] }).table, "*");
});

test("administrative privileges, *.* and the server's own schemas are refused", () => {
  for (const privilege of ["ALL", "ALL PRIVILEGES", "SUPER", "GRANT OPTION", "FILE", "PROCESS", "RELOAD", "SHUTDOWN", "CREATE USER", "REPLICATION SLAVE"]) {
    const problems = mariadbGrantProblems([{ database: "app", privileges: [privilege] }]);
    assert.equal(problems.length, 1, privilege);
    assert.equal(problems[0]?.path, "[0].privileges[0]");
  }
  assert.equal(mariadbGrantProblems([{ database: "*", privileges: ["SELECT"] }])[0]?.path, "[0].database");
  for (const schema of ["mysql", "MySQL", "information_schema", "performance_schema", "sys"]) {
    assert.match(mariadbGrantProblems([{ database: schema, privileges: ["SELECT"] }])[0]?.message ?? "", /server's own schemas/u, schema);
  }
});

test("names that could escape their quotes, unknown keys and empty lists are refused", () => {
  assert.equal(mariadbGrantProblems([{ database: "a`b", privileges: ["SELECT"] }])[0]?.path, "[0].database");
  assert.equal(mariadbGrantProblems([{ database: "app", table: "t' OR 1", privileges: ["SELECT"] }])[0]?.path, "[0].table");
  assert.equal(mariadbGrantProblems([{ database: "app", privileges: [] }])[0]?.path, "[0].privileges");
  assert.ok(mariadbGrantProblems([{ database: "app", privileges: ["SELECT"], host: "%" }]).length > 0);
});

test("database-only privileges are refused on one table", () => {
  const problems = mariadbGrantProblems([{ database: "app", table: "t", privileges: ["SELECT", "EXECUTE", "LOCK TABLES"] }]);
  assert.deepEqual(problems.map((p) => p.path), ["[0].privileges[1]", "[0].privileges[2]"]);
});

test("reserved names", () => {
  assert.match(mariadbUsernameProblem("root") ?? "", /reserved/u);
  assert.match(mariadbUsernameProblem("mariadb-sys") ?? "", /reserved/u);
  assert.equal(mariadbUsernameProblem("app"), undefined);
});

test("identifiers are backtick-quoted with backticks doubled; a database-level grant escapes _", () => {
  assert.equal(quoteIdentifier("a`b"), "`a``b`");
  assert.equal(grantObject(mariadbGrantSchema.parse({ database: "my_app", privileges: ["SELECT"] })), "`my\\_app`.*");
  assert.equal(grantObject(mariadbGrantSchema.parse({ database: "my_app", table: "t_1", privileges: ["SELECT"] })), "`my_app`.`t_1`");
});

test("the apply script creates, sets the password, revokes everything and grants exactly the list", () => {
  const grants = [mariadbGrantSchema.parse({ database: "app", privileges: ["SELECT", "SELECT", "INSERT"] }), mariadbGrantSchema.parse({ database: "audit", table: "log", privileges: ["SELECT"] })];
  assert.equal(
    applyUserSql("app-user", "abc+/x", grants),
    [
      "CREATE USER IF NOT EXISTS 'app-user'@'%' IDENTIFIED VIA ed25519 USING 'abc+/x';",
      "ALTER USER 'app-user'@'%' IDENTIFIED VIA ed25519 USING 'abc+/x';",
      "REVOKE ALL PRIVILEGES, GRANT OPTION FROM 'app-user'@'%';",
      "GRANT SELECT, INSERT ON `app`.* TO 'app-user'@'%';",
      "GRANT SELECT ON `audit`.`log` TO 'app-user'@'%';",
      "",
    ].join("\n"),
  );
  assert.equal(applyUserSql("u", "h", []).split("\n").filter((l) => l.startsWith("GRANT")).length, 0);
});

test("a quote in a name stays inside its string literal", () => {
  assert.equal(sessionsSql("o'brien"), "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = 'o\\'brien'");
});
