import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseReplicationInfo, toReplicationObservation } from "./replication-info.ts";

const MASTER = [
  "# Replication", "role:master", "connected_slaves:2",
  "slave0:ip=127.0.0.1,port=7102,state=online,offset=10049,lag=1",
  "slave1:ip=127.0.0.1,port=7103,state=wait_bgsave,offset=0,lag=0",
  "master_failover_state:no-failover", "master_replid:3dc673451645b63e2741c349ecf642a96a3ba77a",
  "master_replid2:0000000000000000000000000000000000000000", "master_repl_offset:10175", "second_repl_offset:-1", "",
].join("\r\n");

const REPLICA = [
  "# Replication", "role:slave", "master_host:127.0.0.1", "master_port:7101", "master_link_status:down", "master_last_io_seconds_ago:-1",
  "master_sync_in_progress:0", "slave_read_repl_offset:3890", "slave_repl_offset:3890", "master_link_down_since_seconds:5", "slave_priority:0",
  "slave_read_only:1", "replica_announced:1", "connected_slaves:0", "master_replid:3dc673451645b63e2741c349ecf642a96a3ba77a", "master_repl_offset:3890", "",
].join("\r\n");

describe("parseReplicationInfo", () => {
  it("reads a master with its replicas", () => {
    assert.deepEqual(parseReplicationInfo(MASTER), {
      role: "master",
      replicationId: "3dc673451645b63e2741c349ecf642a96a3ba77a",
      offset: 10175,
      replicas: [
        { port: 7102, state: "online", offset: 10049, lagSeconds: 1 },
        { port: 7103, state: "wait_bgsave", offset: 0, lagSeconds: 0 },
      ],
    });
  });

  it("reads a replica whose link is down", () => {
    assert.deepEqual(parseReplicationInfo(REPLICA), {
      role: "replica", replicationId: "3dc673451645b63e2741c349ecf642a96a3ba77a", offset: 3890, masterPort: 7101,
      linkUp: false, linkDownSeconds: 5, syncInProgress: false, priority: 0,
    });
  });

  it("returns undefined for a Sentinel or garbage", () => {
    assert.equal(parseReplicationInfo("# Replication\r\nrole:sentinel\r\n"), undefined);
    assert.equal(parseReplicationInfo("role:slave\r\nmaster_port:x\r\n"), undefined);
  });
});

describe("toReplicationObservation", () => {
  it("gives a primary's replicas names and byte lag", () => {
    const info = parseReplicationInfo(MASTER);
    assert.ok(info);
    const observation = toReplicationObservation(info, (port) => (port === 7102 ? "redis-1" : undefined));
    assert.equal(observation.role, "primary");
    assert.deepEqual(observation.replicas, [
      { name: "redis-1", state: "online", lagBytes: 126, lagMs: undefined },
      { name: "127.0.0.1:7103", state: "wait_bgsave", lagBytes: 10175, lagMs: undefined },
    ]);
  });

  it("says a replica streams only while its link is up", () => {
    const down = parseReplicationInfo(REPLICA);
    const up = parseReplicationInfo(REPLICA.replace("master_link_status:down", "master_link_status:up"));
    assert.ok(down && up);
    assert.equal(toReplicationObservation(down, () => undefined).streamingFrom, undefined);
    assert.equal(toReplicationObservation(up, () => undefined).streamingFrom, 7101);
    assert.equal(toReplicationObservation(up, () => undefined).received, "3890");
  });
});
