import { test } from "node:test";
import assert from "node:assert/strict";
import { grantStatements, postgresqlGrantProblems, postgresqlGrantSchema, postgresqlUsernameProblem, revokeStatements, roleStatements } from "./users.ts";
import { scramSha256Verifier } from "./scram.ts";

void test("a managed role gets a SCRAM verifier, no attribute, and the statement stays out of the log", () => {
  const password = "Secret123Value";
  const statements = roleStatements("app_reader", scramSha256Verifier(password), false);
  assert.ok(statements.every((s) => !s.includes(password)));
  assert.deepEqual(statements.slice(0, 2), ["SET LOCAL log_statement = 'none'", "SET LOCAL log_min_duration_statement = -1"]);
  assert.match(statements[2] ?? "", /^CREATE ROLE "app_reader" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD 'SCRAM-SHA-256\$4096:/);
  assert.match(roleStatements("app_reader", "v", true)[2] ?? "", /^ALTER ROLE "app_reader"/);
});

void test("grants on a database, a schema and its tables (with default privileges) become GRANT statements of that database only", () => {
  const grants = [
    { on: "database", database: "appdb", privileges: ["CONNECT"] },
    { on: "schema", database: "appdb", schema: "app", privileges: ["USAGE"] },
    { on: "tables", database: "appdb", schema: "app", privileges: ["SELECT"] },
    { on: "tables", database: "other", schema: "public", privileges: ["INSERT"], defaultPrivileges: false },
  ].map((g) => postgresqlGrantSchema.parse(g));
  assert.deepEqual(grantStatements("u", "appdb", grants), [
    'GRANT CONNECT ON DATABASE "appdb" TO "u"',
    'GRANT USAGE ON SCHEMA "app" TO "u"',
    'GRANT SELECT ON ALL TABLES IN SCHEMA "app" TO "u"',
    'ALTER DEFAULT PRIVILEGES IN SCHEMA "app" GRANT SELECT ON TABLES TO "u"',
  ]);
  assert.deepEqual(grantStatements("u", "other", grants), ['GRANT INSERT ON ALL TABLES IN SCHEMA "public" TO "u"']);
});

void test("every privilege of the role in a database is revoked first, schema by schema, identifiers quoted", () => {
  assert.deepEqual(revokeStatements('a"b', "db", ["s"]), [
    'REVOKE ALL ON DATABASE "db" FROM "a""b"',
    'REVOKE ALL ON SCHEMA "s" FROM "a""b"',
    'REVOKE ALL ON ALL TABLES IN SCHEMA "s" FROM "a""b"',
    'ALTER DEFAULT PRIVILEGES IN SCHEMA "s" REVOKE ALL ON TABLES FROM "a""b"',
  ]);
  assert.deepEqual(revokeStatements("o", "db", [], true), [], "the owner of a database keeps its owner's privileges on it");
});

void test("grant problems name the grant and the field; privileges outside the allow-list are refused", () => {
  assert.deepEqual(postgresqlGrantProblems([{ on: "tables", database: "d", schema: "s", privileges: ["SELECT"] }]), []);
  const problems = postgresqlGrantProblems([
    { on: "schema", database: "d", schema: "s", privileges: ["USAGE"] },
    { on: "tables", database: "d", schema: "s", privileges: ["TRUNCATE"] },
    { on: "everything", database: "d" },
    { on: "database", database: "d;drop", privileges: ["CONNECT"] },
  ]);
  assert.deepEqual(problems.map((p) => p.path), ["[1].privileges[0]", "[2].on", "[3].database"]);
});

void test("reserved role names are refused", () => {
  assert.ok(postgresqlUsernameProblem("pg_monitor") !== undefined);
  assert.ok(postgresqlUsernameProblem("postgres") !== undefined);
  assert.equal(postgresqlUsernameProblem("app"), undefined);
});
