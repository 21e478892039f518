import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { rewindCommand } from "./rejoin.ts";
import { planReplication } from "./replication-config.ts";
import { basebackupCommand, upstreamOf } from "./standby.ts";
import { InvalidError } from "../../errors/index.ts";
import type { InstanceContext } from "../types.ts";

const context: InstanceContext = {
  instanceName: "pg-1", rootDirectory: "/srv/pg-1", dataDirectory: "/srv/pg-1/data", runDirectory: "/srv/pg-1/run", port: 5433,
  version: { version: "15.18", major: "15", binDir: "/usr/lib/postgresql/15/bin" }, parameters: {}, role: "secondary",
};
const plan = planReplication({ instanceName: "pg-1", runDirectory: "/srv/pg-1/run", upstream: { host: "127.0.0.1", port: 5432 } });
const upstream = upstreamOf(plan, "pg-1");

describe("basebackupCommand", () => {
  it("clones with a fast checkpoint, streamed WAL and the standby's slot; the password comes from the passfile", () => {
    assert.deepEqual(basebackupCommand(context, upstream, "/srv/pg-1/data.clone"), {
      command: "/usr/lib/postgresql/15/bin/pg_basebackup",
      args: ["-h", "127.0.0.1", "-p", "5432", "-U", "kbreplicator", "--no-password", "-D", "/srv/pg-1/data.clone", "--checkpoint=fast", "--wal-method=stream", "--slot=pg_1"],
      env: { PGPASSFILE: "/srv/pg-1/run/replication.pgpass", PGAPPNAME: "pg_1_clone" },
    });
  });

  it("never writes recovery settings itself (-R would store the password)", () => {
    assert.ok(!basebackupCommand(context, upstream, "/x").args.some((arg) => arg === "-R" || arg.startsWith("--write-recovery-conf")));
  });
});

describe("rewindCommand", () => {
  it("rewinds the data directory from the new primary as the replication account", () => {
    const command = rewindCommand(context, upstream);
    assert.equal(command.command, "/usr/lib/postgresql/15/bin/pg_rewind");
    assert.deepEqual(command.args, [
      "--target-pgdata=/srv/pg-1/data",
      "--source-server=host='127.0.0.1' port='5432' user='kbreplicator' passfile='/srv/pg-1/run/replication.pgpass' connect_timeout='5' dbname='postgres' application_name='pg_1_rewind'",
    ]);
    assert.ok(!command.args.includes("-R"));
  });
});

describe("connections to a peer with TLS", () => {
  const peer = upstreamOf(planReplication({ instanceName: "pg-1", runDirectory: "/srv/pg-1/run", upstream: { host: "10.0.0.2", port: 5432 }, sslRootCert: "/srv/pg-1/tls/ca.crt" }), "pg-1");

  it("pg_basebackup requires TLS and checks the primary's certificate names its address (verify-full)", () => {
    const command = basebackupCommand(context, peer, "/x");
    assert.deepEqual(command.args.slice(0, 4), ["-h", "10.0.0.2", "-p", "5432"]);
    assert.deepEqual(command.env, { PGPASSFILE: "/srv/pg-1/run/replication.pgpass", PGAPPNAME: "pg_1_clone", PGSSLMODE: "verify-full", PGSSLROOTCERT: "/srv/pg-1/tls/ca.crt" });
  });

  it("pg_rewind's source connection is verify-full too", () => {
    assert.match(rewindCommand(context, peer).args[1] ?? "", /host='10\.0\.0\.2' .* sslmode='verify-full' sslrootcert='\/srv\/pg-1\/tls\/ca\.crt'/);
  });
});

describe("upstreamOf", () => {
  it("refuses a primary plan", () => {
    assert.throws(() => upstreamOf(planReplication({ instanceName: "pg-0", runDirectory: "/r" }), "pg-0"), InvalidError);
  });
});
