import { test } from "node:test";
import assert from "node:assert/strict";
import type { ServerDatabaseSpec } from "../types.ts";
import { alterDatabaseStatements, createDatabaseStatement, dropDatabaseStatement, fixedSettingsProblem, postgresqlDatabaseProblems } from "./databases.ts";

const APP: ServerDatabaseSpec = { name: "app", ensure: "present", encoding: "UTF8", locale: "C.UTF-8", connectionLimit: 20, allowConnections: true };

void test("CREATE DATABASE from template0 with the owner, encoding, locale and limits, names quoted", () => {
  assert.equal(
    createDatabaseStatement(APP, "app_owner"),
    `CREATE DATABASE "app" OWNER "app_owner" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8' CONNECTION LIMIT 20 ALLOW_CONNECTIONS true`,
  );
  const bare = createDatabaseStatement({ name: 'we"ird-Name', ensure: "present", connectionLimit: -1, allowConnections: false }, "postgres");
  assert.equal(bare, `CREATE DATABASE "we""ird-Name" OWNER "postgres" TEMPLATE template0 CONNECTION LIMIT -1 ALLOW_CONNECTIONS false`);
});

void test("ALTER DATABASE sets the owner, connection limit and allow connections; DROP ends its sessions", () => {
  assert.deepEqual(alterDatabaseStatements({ ...APP, connectionLimit: 3, allowConnections: false }, "o"), [
    `ALTER DATABASE "app" OWNER TO "o"`,
    `ALTER DATABASE "app" WITH CONNECTION LIMIT 3 ALLOW_CONNECTIONS false`,
  ]);
  assert.equal(dropDatabaseStatement("Mixed"), `DROP DATABASE IF EXISTS "Mixed" WITH (FORCE)`);
});

void test("problems: PostgreSQL's own databases, encodings and locales off the allow-list, a single-byte encoding under a UTF-8 locale", () => {
  assert.deepEqual(postgresqlDatabaseProblems(APP), []);
  assert.deepEqual(postgresqlDatabaseProblems({ ...APP, encoding: "utf-8", locale: "c.utf8" }), [], "spellings of the same encoding and locale");
  for (const name of ["postgres", "template0", "template1"]) assert.deepEqual(postgresqlDatabaseProblems({ ...APP, name }).map((p) => p.field), ["name"]);
  assert.deepEqual(postgresqlDatabaseProblems({ ...APP, encoding: "WIN1252" }).map((p) => p.field), ["encoding"]);
  assert.deepEqual(postgresqlDatabaseProblems({ ...APP, locale: "en_US.UTF-8" }).map((p) => p.field), ["locale"]);
  assert.deepEqual(postgresqlDatabaseProblems({ ...APP, encoding: "LATIN1", locale: undefined }).map((p) => p.field), ["locale"]);
  assert.deepEqual(postgresqlDatabaseProblems({ ...APP, encoding: "SQL_ASCII", locale: "C" }), []);
});

void test("an existing database whose encoding or locale differs from the spec is a problem (fixed at creation); unset fields match anything", () => {
  const existing = { encoding: "UTF8", collate: "C.UTF-8", ctype: "C.UTF-8" };
  assert.equal(fixedSettingsProblem(APP, existing), undefined);
  assert.equal(fixedSettingsProblem({ ...APP, encoding: undefined, locale: undefined }, { encoding: "LATIN1", collate: "C", ctype: "C" }), undefined);
  assert.match(fixedSettingsProblem({ ...APP, encoding: "LATIN1" }, existing) ?? "", /encoding UTF8, not LATIN1/);
  assert.match(fixedSettingsProblem({ ...APP, locale: "C" }, existing) ?? "", /locale C.UTF-8\/C.UTF-8, not C/);
});
