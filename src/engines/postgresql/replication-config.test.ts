import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { INCLUDE_LINE } from "./config.ts";
import { HOT_STANDBY_CONF } from "./hot-standby-settings.ts";
import { REPLICATION_INCLUDE_LINE, planReplication, renderReplicationConf, withReplicationInclude } from "./replication-config.ts";
import { planSynchronousReplication } from "./synchronous.ts";

/** The settings of a rendered file, parsed back the way postgresql.conf reads single-quoted values. */
function parseConf(text: string): Record<string, string> {
  const entries = text.split("\n").filter((line) => line !== "" && !line.startsWith("#")).map((line): [string, string] => {
    const match = /^([a-z_]+) = '((?:[^'\\]|''|\\.)*)'$/.exec(line);
    assert.ok(match?.[1] !== undefined && match[2] !== undefined, `unparseable line ${line}`);
    return [match[1], match[2].replaceAll("''", "'").replaceAll("\\\\", "\\")];
  });
  return Object.fromEntries(entries);
}

describe("planReplication", () => {
  it("plans a primary: replication-ready WAL, no upstream", () => {
    const plan = planReplication({ instanceName: "pg-0", runDirectory: "/srv/pg-0/run" });
    assert.equal(plan.role, "primary");
    assert.equal(plan.name, "pg_0");
    assert.equal(plan.passfile, "/srv/pg-0/run/replication.pgpass");
    assert.equal(plan.upstream, undefined);
    assert.deepEqual(plan.settings, {
      wal_level: "replica",
      hot_standby: "on",
      wal_log_hints: "on",
      max_wal_senders: "12",
      max_replication_slots: "12",
      wal_keep_size: "512MB",
      wal_retrieve_retry_interval: "200ms",
      synchronous_commit: "on",
      synchronous_standby_names: "",
      recovery_target_timeline: "latest",
      primary_conninfo: "",
      primary_slot_name: "",
    });
  });

  it("plans a standby streaming through its own slot, with the password in a passfile", () => {
    const plan = planReplication({ instanceName: "pg-cluster-postgresql-1", runDirectory: "/srv/i/run", upstream: { host: "127.0.0.1", port: 40001 } });
    assert.equal(plan.role, "standby");
    assert.deepEqual(plan.upstream, {
      host: "127.0.0.1", port: 40001, user: "kbreplicator", passfile: "/srv/i/run/replication.pgpass",
      slotName: "pg_cluster_postgresql_1", applicationName: "pg_cluster_postgresql_1",
    });
    assert.equal(plan.settings["primary_slot_name"], "pg_cluster_postgresql_1");
    assert.equal(
      plan.settings["primary_conninfo"],
      "host='127.0.0.1' port='40001' user='kbreplicator' passfile='/srv/i/run/replication.pgpass' connect_timeout='5' application_name='pg_cluster_postgresql_1'",
    );
    assert.ok(!plan.settings["primary_conninfo"].includes("password"));
  });

  it("connects to a peer's address with TLS verified against the CA (verify-full) when given one", () => {
    const plan = planReplication({ instanceName: "pg-cluster-postgresql-1", runDirectory: "/srv/i/run", upstream: { host: "10.0.0.2", port: 40001 }, sslRootCert: "/srv/i/tls/ca.crt" });
    assert.equal(
      plan.settings["primary_conninfo"],
      "host='10.0.0.2' port='40001' user='kbreplicator' passfile='/srv/i/run/replication.pgpass' connect_timeout='5' sslmode='verify-full' sslrootcert='/srv/i/tls/ca.crt' application_name='pg_cluster_postgresql_1'",
    );
  });

  it("sizes senders and slots for the replicas, never below 10", () => {
    assert.equal(planReplication({ instanceName: "a", runDirectory: "/r", maxReplicas: 2 }).settings["max_wal_senders"], "10");
    assert.equal(planReplication({ instanceName: "a", runDirectory: "/r", maxReplicas: 9 }).settings["max_replication_slots"], "20");
  });

  it("leaves tunables the user set to them, but not what replication needs", () => {
    const parameters = { wal_keep_size: "2GB", max_wal_senders: "30", wal_level: "minimal", synchronous_commit: "remote_apply" };
    const settings = planReplication({ instanceName: "a", runDirectory: "/r", parameters }).settings;
    assert.equal(settings["wal_keep_size"], undefined);
    assert.equal(settings["max_wal_senders"], undefined);
    assert.equal(settings["synchronous_commit"], undefined);
    assert.equal(settings["wal_level"], "replica");
    assert.equal(planReplication({ instanceName: "a", runDirectory: "/r", parameters: { wal_level: "logical" } }).settings["wal_level"], "logical");
  });

  it("carries the synchronous settings", () => {
    const synchronous = planSynchronousReplication({ mode: "synchronous", quorum: 1 }, ["pg_1", "pg_2"]);
    const settings = planReplication({ instanceName: "pg-0", runDirectory: "/r", synchronous }).settings;
    assert.equal(settings["synchronous_standby_names"], 'ANY 1 ("pg_1", "pg_2")');
    assert.equal(settings["synchronous_commit"], "on");
  });
});

describe("renderReplicationConf", () => {
  it("quotes every value so postgresql.conf reads it back exactly", () => {
    const synchronous = planSynchronousReplication({ mode: "synchronous", quorum: 1 }, ["pg_1"]);
    const plan = planReplication({ instanceName: "pg-1", runDirectory: "/srv/it's here\\run", upstream: { host: "127.0.0.1", port: 5 }, synchronous });
    const text = renderReplicationConf(plan);
    assert.match(text, /^# Managed by Holdfast: replication settings of a standby/);
    const { include_if_exists: raised, ...settings } = parseConf(text);
    assert.deepEqual(settings, plan.settings);
    assert.equal(raised, HOT_STANDBY_CONF);
    assert.match(text.trimEnd().split("\n").at(-1) ?? "", /^include_if_exists = 'holdfast-hot-standby\.conf'$/, "last, so a standby's raised values win");
    assert.match(text, /^primary_conninfo = 'host=''127\.0\.0\.1'' port=''5''/m);
  });
});

describe("withReplicationInclude", () => {
  it("adds both includes, replication last, once", () => {
    const once = withReplicationInclude("max_connections = 100\n");
    const lines = once.split("\n");
    assert.ok(lines.indexOf(INCLUDE_LINE) >= 0);
    assert.ok(lines.indexOf(REPLICATION_INCLUDE_LINE) > lines.indexOf(INCLUDE_LINE));
    assert.equal(withReplicationInclude(once), once);
    assert.ok(once.startsWith("max_connections = 100\n"));
  });

  it("moves a replication include that sits before holdfast.conf's", () => {
    const wrongOrder = `${REPLICATION_INCLUDE_LINE}\n${INCLUDE_LINE}\n`;
    const fixed = withReplicationInclude(wrongOrder).split("\n").filter((line) => line.startsWith("include"));
    assert.deepEqual(fixed, [INCLUDE_LINE, REPLICATION_INCLUDE_LINE]);
  });
});
