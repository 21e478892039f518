import { test } from "node:test";
import assert from "node:assert/strict";
import { analyzeStatement, killQueryStatements, killTargetsStatement, MARIADB_ACTIONS } from "./actions.ts";

const ACCOUNTS = ["root", "kbdataprotection", "kbreplicator"];

void test("the allow-list is the documented one", () => {
  assert.deepEqual(MARIADB_ACTIONS.map((a) => `${a.name}:${a.scope}`), ["flush-logs:every", "analyze-table:primary", "kill-query:every"]);
});

void test("analyze-table quotes the database and table as identifiers, injection attempts included", () => {
  assert.equal(analyzeStatement({ database: "shop", table: "orders" }), "ANALYZE TABLE `shop`.`orders`;");
  assert.equal(analyzeStatement({ database: "shop", table: "x`; DROP TABLE t; --" }), "ANALYZE TABLE `shop`.`x``; DROP TABLE t; --`;");
  const analyze = MARIADB_ACTIONS.find((a) => a.name === "analyze-table");
  assert.deepEqual(analyze?.problems({ database: "shop" }, ACCOUNTS).map((p) => p.parameter), ["table"]);
});

void test("kill-query chooses connections by id or by user (an escaped literal), leaving the engine's own alone", () => {
  assert.equal(killTargetsStatement({ id: 17 }, ACCOUNTS), "SELECT ID FROM information_schema.PROCESSLIST WHERE ID = 17 AND ID <> CONNECTION_ID() AND USER NOT IN ('root', 'kbdataprotection', 'kbreplicator');");
  const injected = killTargetsStatement({ user: "a' OR '1'='1" }, ACCOUNTS);
  assert.match(injected, /WHERE USER = 'a\\' OR \\'1\\'=\\'1' AND/);
  assert.equal(killQueryStatements(["12", "13; DROP", "14"]), "KILL QUERY 12;\nKILL QUERY 14;");
  const kill = MARIADB_ACTIONS.find((a) => a.name === "kill-query");
  assert.ok(kill);
  assert.equal(kill.problems({ user: "root" }, ACCOUNTS)[0]?.parameter, "user");
  assert.equal(kill.problems({ id: 0 }, ACCOUNTS)[0]?.parameter, "id");
});
