import { test } from "node:test";
import assert from "node:assert/strict";
import { controlDataFields } from "./control-data.ts";
import { configuredValues, hotStandbyDrift, raisedValues, recordedValues, renderHotStandbyConf, standbyStartValues } from "./hot-standby-settings.ts";
import { planReplication } from "./replication-config.ts";

/** pg_controldata of PostgreSQL 15 (LC_ALL=C), the lines around the recorded settings. */
const CONTROL_DATA = `pg_control version number:            1300
Database cluster state:               in archive recovery
Latest checkpoint location:           0/3000060
Latest checkpoint's TimeLineID:       2
wal_level setting:                    replica
wal_log_hints setting:                on
max_connections setting:              225
max_worker_processes setting:         8
max_wal_senders setting:              12
max_prepared_xacts setting:           0
max_locks_per_xact setting:           64
track_commit_timestamp setting:       off
`;

const STANDBY_SETTINGS = planReplication({ instanceName: "pg-0", runDirectory: "/r", upstream: { host: "127.0.0.1", port: 5 } }).settings;

test("recordedValues reads the five settings pg_control records, under pg_controldata's own labels", () => {
  assert.deepEqual(recordedValues(controlDataFields(CONTROL_DATA)), { max_connections: 225, max_worker_processes: 8, max_wal_senders: 12, max_prepared_transactions: 0, max_locks_per_transaction: 64 });
  assert.deepEqual(recordedValues(controlDataFields("max_connections setting: lots\n")), {}, "a value that is no integer is left out");
});

test("configuredValues: Holdfast's replication settings, then the user's parameters, then PostgreSQL's defaults", () => {
  const configured = configuredValues({ max_connections: "112", max_wal_senders: "3" }, STANDBY_SETTINGS);
  assert.deepEqual(configured, { max_connections: 112, max_worker_processes: 8, max_wal_senders: 12, max_prepared_transactions: 0, max_locks_per_transaction: 64 });
});

test("a standby starts with the higher of its own value and its primary's, for each of the five", () => {
  const configured = configuredValues({ max_connections: "112", max_locks_per_transaction: "128" }, STANDBY_SETTINGS);
  const recorded = recordedValues(controlDataFields(CONTROL_DATA));
  assert.deepEqual(standbyStartValues(configured, recorded), { max_connections: 225, max_worker_processes: 8, max_wal_senders: 12, max_prepared_transactions: 0, max_locks_per_transaction: 128 });
  assert.deepEqual(raisedValues(configured, recorded), { max_connections: 225 }, "only what the primary runs higher is raised");
  assert.deepEqual(raisedValues(configuredValues({ max_connections: "300" }, STANDBY_SETTINGS), recorded), {}, "its own higher value stays");
  assert.deepEqual(raisedValues(configured, {}), {}, "nothing recorded: its own values");
});

test("renderHotStandbyConf raises each value in PostgreSQL's syntax and says what it replaces", () => {
  const text = renderHotStandbyConf({ max_connections: 112 }, { max_connections: 225 });
  assert.match(text, /^# Managed by Holdfast/);
  assert.match(text, /^max_connections = '225' {2}# own value 112, below the primary's$/m);
  assert.equal(renderHotStandbyConf({}, {}).split("\n").filter((l) => l !== "" && !l.startsWith("#")).length, 0);
});

test("hotStandbyDrift: a standby below its primary's values must restart, whatever set them", () => {
  const configured = { max_connections: 112, max_worker_processes: 8 };
  const drift = hotStandbyDrift({ max_connections: 112, max_worker_processes: 8 }, new Set(), configured, { max_connections: 225, max_worker_processes: 8 });
  assert.deepEqual(drift, { kind: "below-primary", settings: ["max_connections 112 (primary 225)"] });
});

test("hotStandbyDrift: a value raised at the start and above both its own and its primary's now goes back to its own", () => {
  const configured = { max_connections: 112 };
  assert.deepEqual(hotStandbyDrift({ max_connections: 225 }, new Set(["max_connections"]), configured, { max_connections: 112 }), { kind: "raised-no-longer-needed", settings: ["max_connections 225 (own 112, primary 112)"] });
  assert.equal(hotStandbyDrift({ max_connections: 225 }, new Set(["max_connections"]), configured, { max_connections: 225 }), undefined, "still needed: the primary runs 225");
  assert.equal(hotStandbyDrift({ max_connections: 225 }, new Set(["max_connections"]), configured, { max_connections: 150 })?.kind, "raised-no-longer-needed", "a restart would give 150, what the primary runs now");
  assert.equal(hotStandbyDrift({ max_connections: 300 }, new Set(), configured, { max_connections: 112 }), undefined, "set elsewhere (ALTER SYSTEM): not Holdfast's raise, a restart would not change it");
  assert.equal(hotStandbyDrift({ max_connections: 112 }, new Set(), configured, { max_connections: 112 }), undefined);
});
