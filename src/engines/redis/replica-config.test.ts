import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { InvalidError } from "../../errors/index.ts";
import type { InstanceContext } from "../types.ts";
import { renderRedisConf } from "./config.ts";
import { renderReplicatedRedisConf } from "./replica-config.ts";
import type { RedisReplicationAccounts } from "./replication-accounts.ts";

const context: InstanceContext = {
  instanceName: "redis-1", rootDirectory: "/srv/redis-1", dataDirectory: "/srv/redis-1/data", runDirectory: "/srv/redis-1/run",
  port: 7102, version: { version: "7.0.15", major: "7", binDir: "/usr/bin" }, parameters: {}, role: "secondary",
};

const accounts: RedisReplicationAccounts = {
  admin: { username: "default", password: "Adm1nPasswordXYZ" },
  replication: { username: "replicator", password: "Repl1cationPassw" },
  sentinel: { username: "sentinel", password: "Sent1nelPassword" },
};

const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

describe("renderReplicatedRedisConf", () => {
  it("replicates from the master's address and announces its own, so the master and Sentinel know it by it", () => {
    const lines = renderReplicatedRedisConf({ ...context, address: "10.0.0.3" }, accounts, { masterPort: 7101, masterHost: "10.0.0.2" }).split("\n");
    assert.ok(lines.includes("replicaof 10.0.0.2 7101"));
    assert.ok(lines.includes("replica-announce-ip 10.0.0.3"));
    assert.throws(() => renderReplicatedRedisConf(context, accounts, { masterPort: 7101, masterHost: "10.0.0.2\nuser evil on nopass" }), InvalidError);
  });

  it("makes a replica of the master with the replication user, and gives Sentinel only its documented commands", () => {
    const lines = renderReplicatedRedisConf(context, accounts, { masterPort: 7101 }).split("\n");
    for (const line of [
      "replicaof 127.0.0.1 7101",
      "masteruser replicator",
      'masterauth "Repl1cationPassw"',
      "replica-read-only yes",
      "replica-priority 100",
      "repl-diskless-sync-delay 0",
      `user replicator reset on #${sha256("Repl1cationPassw")} resetchannels -@all +psync +replconf +ping`,
      `user sentinel reset on #${sha256("Sent1nelPassword")} allchannels -@all +multi +slaveof +ping +exec +subscribe +config|rewrite +role +publish +info +client|setname +client|kill +script|kill`,
      `user default reset on #${sha256("Adm1nPasswordXYZ")} ~* &* +@all`,
    ]) {
      assert.ok(lines.includes(line), `missing ${line}`);
    }
  });

  it("runs a master without replicaof, ready to become a replica (masterauth is always there)", () => {
    const conf = renderReplicatedRedisConf(context, accounts, { masterPort: undefined, replicaPriority: 10 });
    assert.doesNotMatch(conf, /replicaof/);
    assert.match(conf, /^masteruser replicator$/m);
    assert.match(conf, /^replica-priority 10$/m);
  });

  it("holds the administrator's and the Sentinel's passwords only as SHA-256", () => {
    const conf = renderReplicatedRedisConf(context, accounts, { masterPort: 7101 });
    assert.ok(!conf.includes(accounts.admin.password));
    assert.ok(!conf.includes(accounts.sentinel.password));
  });

  it("refuses a master on its own port, a negative priority, and a password that would break the line", () => {
    assert.throws(() => renderReplicatedRedisConf(context, accounts, { masterPort: 7102 }), InvalidError);
    assert.throws(() => renderReplicatedRedisConf(context, accounts, { masterPort: 7101, replicaPriority: -1 }), InvalidError);
    const broken = { ...accounts, replication: { username: "replicator", password: "x\nreplicaof 10.0.0.1 6379" } };
    assert.throws(() => renderReplicatedRedisConf(context, broken, { masterPort: 7101 }), InvalidError);
  });

  it("keeps replication directives out of user parameters", () => {
    for (const name of ["replicaof", "slaveof", "replica-priority", "masterauth", "replica-read-only"]) {
      assert.throws(() => renderRedisConf({ ...context, parameters: { [name]: "x" } }, [accounts.admin]), InvalidError, name);
    }
  });
});
