import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseAclLog, parseClientList } from "./client-list.ts";

// CLIENT LIST as Redis 7.0 answers it (fields trimmed to those read and a few around them).
const LIST = [
  "id=3 addr=127.0.0.1:41000 laddr=127.0.0.1:6379 fd=8 name= age=12 idle=0 flags=N db=0 cmd=client|list user=default redir=-1 resp=2",
  "id=5 addr=127.0.0.1:41002 laddr=127.0.0.1:6379 fd=9 name=shop age=3 idle=3 flags=N db=2 cmd=get user=app redir=-1 resp=2",
  "id=6 addr=[::1]:41003 laddr=[::1]:6379 fd=10 name= age=1 idle=1 flags=N db=0 cmd=auth user=default redir=-1 resp=2",
  "id=7 addr=10.0.0.9:41004 laddr=10.0.0.1:6379 fd=11 name= age=0 idle=0 flags=N db=0 cmd=NULL user=default redir=-1 resp=2",
  "id=8 addr=::1:41005 laddr=::1:6379 fd=12 name=cli age=2 idle=0 flags=N db=0 cmd=ping user=default redir=-1 resp=3",
  "",
].join("\n");

describe("Redis CLIENT LIST", () => {
  it("gives each connection that ran a command its user, address, port, database, name and opening time", () => {
    const now = 1_000_000;
    assert.deepEqual(parseClientList(LIST, now), [
      { time: now - 12_000, user: "default", database: "0", applicationName: "", host: "127.0.0.1", port: 41000 },
      { time: now - 3000, user: "app", database: "2", applicationName: "shop", host: "127.0.0.1", port: 41002 },
      { time: now - 2000, user: "default", database: "0", applicationName: "cli", host: "::1", port: 41005 },
    ]);
  });

  it("leaves out a connection that ran nothing but AUTH or nothing at all: it may not be logged in (Redis lists it as default)", () => {
    const logins = parseClientList(LIST, 0);
    assert.ok(!logins.some((login) => login.port === 41003 || login.port === 41004));
  });
});

describe("Redis ACL LOG", () => {
  const entry = (username: string, count: number, reason = "auth", addr = "127.0.0.1:5001"): (string | number)[] => [
    "count", count, "reason", reason, "context", "toplevel", "object", reason === "auth" ? "AUTH" : "get", "username", username, "age-seconds", "0.034",
    "client-info", `id=4 addr=${addr} laddr=127.0.0.1:20002 fd=7 name= age=0 idle=0 flags=N db=0 cmd=auth user=default resp=2`,
  ];
  it("adds up each account's refused logins (reason auth) with the address of its newest entry; other reasons and junk are not logins", () => {
    const reply = [entry("default", 3, "auth", "10.0.0.9:4000"), entry("bob", 1), entry("default", 5, "auth", "10.0.0.8:3000"), entry("app", 7, "command"), "junk", ["count", "x", "reason", "auth", "username", "eve"]];
    assert.deepEqual(parseAclLog(reply), [
      { user: "default", count: 8, host: "10.0.0.9", port: 4000 },
      { user: "bob", count: 1, host: "127.0.0.1", port: 5001 },
    ]);
    assert.deepEqual(parseAclLog(null), []);
  });
});

