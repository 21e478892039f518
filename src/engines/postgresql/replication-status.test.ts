import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { z } from "zod";
import { toReplicaStatus, toSlotStatus, toStandbyStatus } from "./replication-status.ts";

const replicaRow = {
  application_name: "pg_1", state: "streaming", sync_state: "quorum",
  sent_lsn: "0/3000200", write_lsn: "0/3000200", flush_lsn: "0/3000100", replay_lsn: "0/3000000",
  write_lag_ms: 1.5, flush_lag_ms: 2.25, replay_lag_ms: null,
};

describe("toReplicaStatus", () => {
  it("measures lag in bytes against the primary's current LSN; a null time lag is undefined", () => {
    assert.deepEqual(toReplicaStatus(replicaRow, "0/3000200"), {
      name: "pg_1", state: "streaming", syncState: "quorum",
      sentLsn: "0/3000200", flushLsn: "0/3000100", replayLsn: "0/3000000",
      lagBytes: 0x200, flushLagBytes: 0x100,
      writeLagMs: 1.5, flushLagMs: 2.25, replayLagMs: undefined,
    });
  });

  it("leaves lag unknown for a standby that has not reported a position yet", () => {
    const status = toReplicaStatus({ ...replicaRow, state: "startup", flush_lsn: null, replay_lsn: null }, "0/3000200");
    assert.equal(status.lagBytes, undefined);
    assert.equal(status.flushLagBytes, undefined);
  });

  it("refuses a row of another shape instead of guessing", () => {
    assert.throws(() => toReplicaStatus({ ...replicaRow, write_lag_ms: "1.5" }, "0/0"), z.ZodError);
  });
});

describe("toSlotStatus", () => {
  it("counts the WAL a slot retains", () => {
    assert.deepEqual(toSlotStatus({ slot_name: "pg_2", active: false, restart_lsn: "0/1000000", wal_status: "reserved" }, "0/3000000"), {
      name: "pg_2", active: false, restartLsn: "0/1000000", walStatus: "reserved", retainedBytes: 0x2000000,
    });
  });
});

describe("toStandbyStatus", () => {
  const overview = {
    in_recovery: true, current_lsn: null, current_wal_file: null,
    receive_lsn: "0/5000100", replay_lsn: "0/5000000", replay_timestamp: new Date("2026-01-02T03:04:05.000Z"),
    checkpoint_timeline: 1, synchronous_standby_names: "",
  };

  it("takes the timeline its WAL receiver streams, and the receiver's upstream", () => {
    const receiver = { status: "streaming", sender_host: "127.0.0.1", sender_port: 5432, slot_name: "pg_1", received_tli: 3 };
    assert.deepEqual(toStandbyStatus(overview, receiver), {
      role: "standby", timeline: 3, receiveLsn: "0/5000100", replayLsn: "0/5000000", replayTimestamp: "2026-01-02T03:04:05.000Z",
      replayLagBytes: 0x100, receiver: { status: "streaming", senderHost: "127.0.0.1", senderPort: 5432, slotName: "pg_1" },
    });
  });

  it("falls back to the checkpoint's timeline without a receiver", () => {
    const status = toStandbyStatus({ ...overview, receive_lsn: null, replay_timestamp: null }, undefined);
    assert.equal(status.timeline, 1);
    assert.equal(status.receiver, undefined);
    assert.equal(status.replayLagBytes, undefined);
    assert.equal(status.replayTimestamp, undefined);
  });

  it("without a receiver, the newest timeline history it fetched beats an old restartpoint (it followed promotions by reload)", () => {
    assert.equal(toStandbyStatus({ ...overview, checkpoint_timeline: 4, history_timeline: 6 }, undefined).timeline, 6);
    assert.equal(toStandbyStatus({ ...overview, checkpoint_timeline: 4, history_timeline: null }, undefined).timeline, 4);
  });
});
