import { test } from "node:test";
import assert from "node:assert/strict";
import { backendStatement, POSTGRESQL_ACTIONS, vacuumStatement } from "./actions.ts";

const ACCOUNTS = ["postgres", "replicator", "monitor"];

function action(name: string) {
  const found = POSTGRESQL_ACTIONS.find((a) => a.name === name);
  assert.ok(found, name);
  return found;
}

void test("the allow-list is the documented one", () => {
  assert.deepEqual(POSTGRESQL_ACTIONS.map((a) => `${a.name}:${a.scope}`), ["pg-terminate-backend:every", "pg-cancel-backend:every", "vacuum-analyze:primary", "checkpoint:every", "reload:every"]);
});

void test("a session chosen by user is a bound parameter, never text of the statement", () => {
  const user = "x'; DROP TABLE t; --";
  const statement = backendStatement("terminate", { user }, ACCOUNTS);
  assert.ok(!statement.text.includes(user));
  assert.ok(!statement.text.includes("DROP"));
  assert.match(statement.text, /pg_terminate_backend\(pid\).*WHERE usename = \$1 AND backend_type = 'client backend' AND pid <> pg_catalog\.pg_backend_pid\(\) AND usename <> ALL\(\$2::text\[\]\)/);
  assert.deepEqual(statement.values, [user, ACCOUNTS]);
});

void test("a session chosen by pid binds the pid; cancel calls pg_cancel_backend", () => {
  const statement = backendStatement("cancel", { pid: 4242 }, ACCOUNTS);
  assert.match(statement.text, /pg_cancel_backend\(pid\)/);
  assert.match(statement.text, /WHERE pid = \$1/);
  assert.deepEqual(statement.values, [4242, ACCOUNTS]);
});

void test("terminate needs exactly one of pid and user, a positive pid, and no system account", () => {
  const terminate = action("pg-terminate-backend");
  assert.deepEqual(terminate.problems({ user: "app" }, ACCOUNTS), []);
  assert.deepEqual(terminate.problems({ pid: 12 }, ACCOUNTS), []);
  assert.match(terminate.problems({}, ACCOUNTS)[0]?.message ?? "", /give one of pid, user/);
  assert.match(terminate.problems({ pid: 1, user: "app" }, ACCOUNTS)[0]?.message ?? "", /only one/);
  assert.equal(terminate.problems({ pid: -3 }, ACCOUNTS)[0]?.parameter, "pid");
  assert.equal(terminate.problems({ pid: 1.5 }, ACCOUNTS)[0]?.parameter, "pid");
  const [own] = terminate.problems({ user: "replicator" }, ACCOUNTS);
  assert.equal(own?.parameter, "user");
  assert.match(own.message, /system account/);
  assert.equal(terminate.problems({ user: "a".repeat(64) }, ACCOUNTS)[0]?.parameter, "user");
});

void test("vacuum quotes the schema and table as identifiers, injection attempts included", () => {
  assert.equal(vacuumStatement({}), "VACUUM (ANALYZE)");
  assert.equal(vacuumStatement({ table: "orders" }), 'VACUUM (ANALYZE) "orders"');
  assert.equal(vacuumStatement({ schema: "app", table: 'x"; DROP TABLE t; --' }), 'VACUUM (ANALYZE) "app"."x""; DROP TABLE t; --"');
  const vacuum = action("vacuum-analyze");
  assert.deepEqual(vacuum.problems({ database: "app", table: "orders" }, ACCOUNTS), []);
  assert.equal(vacuum.problems({ schema: "app" }, ACCOUNTS)[0]?.parameter, "schema");
  assert.equal(vacuum.problems({ table: "bad\0name" }, ACCOUNTS)[0]?.parameter, "table");
});
