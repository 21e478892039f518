import { test } from "node:test";
import assert from "node:assert/strict";
import { clientsToKill, killCommands, REDIS_ACTIONS } from "./actions.ts";
import { listedClients } from "./client-list.ts";

const ACCOUNTS = ["default", "replicator", "sentinel", "monitor"];
const LIST = [
  "id=3 addr=127.0.0.1:50000 laddr=127.0.0.1:6379 fd=8 name= age=9 idle=0 flags=N db=0 user=app cmd=get",
  "id=4 addr=127.0.0.1:50001 laddr=127.0.0.1:6379 fd=9 name= age=9 idle=0 flags=S db=0 user=replicator cmd=replconf",
  "id=5 addr=127.0.0.1:50002 laddr=127.0.0.1:6379 fd=10 name= age=2 idle=0 flags=N db=0 user=app cmd=set",
  "id=6 addr=127.0.0.1:50003 laddr=127.0.0.1:6379 fd=11 name= age=2 idle=0 flags=N db=0 user=default cmd=client|list",
  "",
].join("\n");

void test("the allow-list is the documented one", () => {
  assert.deepEqual(REDIS_ACTIONS.map((a) => a.name), ["bgsave", "bgrewriteaof", "memory-purge", "client-kill"]);
  assert.ok(REDIS_ACTIONS.every((a) => a.scope === "every"));
});

void test("client-kill chooses the user's clients or the one address, never a system account's, and kills them by id", () => {
  const clients = listedClients(LIST);
  assert.equal(clients.length, 4);
  assert.deepEqual(clientsToKill(clients, { user: "app" }, ACCOUNTS).map((c) => c.id), ["3", "5"]);
  assert.deepEqual(clientsToKill(clients, { addr: "127.0.0.1:50001" }, ACCOUNTS), [], "a replica's link is Holdfast's own");
  assert.deepEqual(killCommands(clientsToKill(clients, { addr: "127.0.0.1:50002" }, ACCOUNTS)), [["CLIENT", "KILL", "ID", "5"]]);
});

void test("client-kill arguments: one of user and addr, an address as CLIENT LIST shows it, no system account", () => {
  const kill = REDIS_ACTIONS.find((a) => a.name === "client-kill");
  assert.ok(kill);
  assert.deepEqual(kill.problems({ user: "app" }, ACCOUNTS), []);
  assert.deepEqual(kill.problems({ addr: "[::1]:6000" }, ACCOUNTS), []);
  assert.equal(kill.problems({ addr: "127.0.0.1:1 USER default" }, ACCOUNTS)[0]?.parameter, "addr");
  assert.equal(kill.problems({ user: "sentinel" }, ACCOUNTS)[0]?.parameter, "user");
  assert.equal(kill.problems({ user: "a", addr: "127.0.0.1:1" }, ACCOUNTS).length, 1);
});
