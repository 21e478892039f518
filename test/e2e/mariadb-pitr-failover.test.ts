/**
 * Issue 15: point-in-time recovery of a replicated MariaDB cluster after the instance the full backup was taken from
 * is gone. Every instance archives its own binlog (archive-binlog); the full backup's source stops archiving when a
 * scale-in removes it; a restore to a later time replays the surviving instance's archived binlog from the backup's
 * GTID (ADR 0049, "Since 2026-12-06 (evening)"). Real server, mariadbd, mariabackup and mariadb-binlog:
 * write A, note the time, write B → the restore has A and not B, and every row written before the scale-in; the
 * restored cluster has the backed-up topology: a primary and a replica replicating from it.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import type { Backup, Cluster, Instance, OpsRequest } from "../../src/api/index.ts";
import { createMariadbEngine } from "../../src/engines/index.ts";
import { clusterCaFile, connectionUri } from "../helpers/clients.ts";
import { eventually, TestServer } from "../helpers/harness.ts";
import { backupOf, waitClusterRunning } from "../helpers/data-protection.ts";
import { exampleWith } from "../helpers/manifests.ts";
import { mariadbOverTls } from "../helpers/mariadb-cli.ts";

const installed = await createMariadbEngine().detectVersions();
const skip = installed.length === 0 ? "mariadbd is not installed (Debian: apt-get install -y mariadb-server mariadb-client mariadb-backup)" : false;
if (skip !== false) console.log(`# skipped: ${skip}`);
const version = installed[0]?.version ?? "";
const NS = "demo";
const NAME = "mpf";
const COMPONENT = "mariadb";
const NOW = "SELECT DATE_FORMAT(UTC_TIMESTAMP(6), '%Y-%m-%dT%H:%i:%s.%fZ')";
let server: TestServer;

/** The real mariadb client as the cluster's administrator over verified TLS (mariadbOverTls: no password in argv). */
async function sql(cluster: string, text: string): Promise<string> {
  const result = await mariadbOverTls(new URL(await connectionUri(server, cluster, NS)), clusterCaFile(server), text);
  assert.equal(result.code, 0, `${text}: ${result.stderr}`);
  return result.stdout.trim();
}

async function cluster(): Promise<Cluster> {
  return server.api<Cluster>(`/apis/apps.kubeblocks.io/v1/namespaces/${NS}/clusters/${NAME}`);
}

function backup(name: string): Promise<Backup> {
  return backupOf(server, NS, name);
}

function waitRunning(cluster: string): Promise<void> {
  return waitClusterRunning(server, NS, cluster);
}

function manifest(replicas: number): Promise<string> {
  return exampleWith("mariadb/cluster.yaml", (doc) => {
    doc["metadata"].name = NAME;
    doc["spec"].clusterDef = "mariadb";
    doc["spec"].topology = "replication";
    doc["spec"].componentSpecs[0].replicas = replicas;
    doc["spec"].componentSpecs[0].serviceVersion = version;
  });
}

/** Switch the primary over to `candidate` and wait until it is recorded. */
async function switchoverTo(opsName: string, candidate: string): Promise<void> {
  const from = (await cluster()).status?.replication?.[COMPONENT]?.currentPrimary ?? assert.fail("no primary recorded");
  if (from === candidate) return;
  await server.ok(["apply", "-f", "-"], await exampleWith("postgresql/switchover-specified-instance.yaml", (doc) => {
    doc["metadata"].name = opsName;
    doc["spec"].clusterName = NAME;
    doc["spec"].switchover[0].componentName = COMPONENT;
    doc["spec"].switchover[0].instanceName = from;
    doc["spec"].switchover[0].candidateName = candidate;
  }));
  const done = await eventually(`${opsName} finished`, async () => {
    const o = await server.api<OpsRequest>(`/apis/operations.kubeblocks.io/v1alpha1/namespaces/${NS}/opsrequests/${opsName}`);
    return o.status?.phase === "Succeed" || o.status?.phase === "Failed" ? o : undefined;
  }, 180_000);
  assert.equal(done.status?.phase, "Succeed", done.status?.message);
}

describe("MariaDB point-in-time recovery after the backup's source instance is gone", { skip, timeout: 1_200_000 }, () => {
  let source = "";
  let noted = "";

  before(async () => {
    server = await TestServer.start({ initArgs: ["--advertise", "127.0.84.1"], listenHost: "127.0.84.1" });
    await server.ok(["create", "namespace", NS]);
  });

  after(async () => {
    await server.destroy();
  });

  test("a 2-replica cluster, its archive-binlog Running, and a full backup taken on the replica mpf-mariadb-1", async () => {
    await server.ok(["apply", "-f", "-"], await manifest(2));
    await waitRunning(NAME);
    await sql(NAME, "CREATE DATABASE app; USE app; CREATE TABLE app.notes (id INT PRIMARY KEY, note TEXT) ENGINE=InnoDB; INSERT INTO app.notes SELECT seq, CONCAT('before-', seq) FROM seq_1_to_100");
    await eventually("the BackupPolicy", async () => (await server.cli(["get", "backuppolicies", "-n", NS])).stdout.includes(`${NAME}-mariadb-backup-policy`) || undefined);
    await server.ok(["backup", "create", "--cluster", NAME, "--method", "archive-binlog", "--name", "mpf-binlog", "-n", NS]);
    await server.ok(["wait", "backup/mpf-binlog", "-n", NS, "--for=phase=Running", "--timeout=60s"]);
    // mariabackup runs on a replica: with mpf-mariadb-0 primary, on mpf-mariadb-1, the instance a scale-in removes.
    await switchoverTo("mpf-to-0", `${NAME}-mariadb-0`);
    await server.ok(["backup", "create", "--cluster", NAME, "--name", "mpf-full", "-n", NS, "--wait", "--timeout", "300s"]);
    source = (await backup("mpf-full")).status?.source?.instance ?? "";
    console.log(`full backup taken on ${source}`);
    assert.equal(source, `${NAME}-mariadb-1`, "the policy backs up a replica");
    await sql(NAME, "USE app; INSERT INTO app.notes SELECT seq, CONCAT('after-backup-', seq) FROM seq_101_to_200");
  });

  test("the scale-in removes the source instance; its archive stops, the other instance's goes on", async () => {
    await server.ok(["apply", "-f", "-"], await manifest(1));
    await eventually(`${source} removed`, async () => ((await server.fetch(`/apis/holdfast.io/v1alpha1/namespaces/${NS}/instances/${source}`)).status === 404 ? true : undefined), 180_000);
    await waitRunning(NAME);
  });

  test("write A, note the time, write B; a restore to the time replays the surviving instance's binlog: A, not B", async () => {
    await sql(NAME, "INSERT INTO app.notes VALUES (1001, 'A')");
    await sleep(1500);
    noted = await sql(NAME, NOW);
    await sleep(1500);
    await sql(NAME, "INSERT INTO app.notes VALUES (1002, 'B')");
    const bAt = await sql(NAME, NOW);
    await sql(NAME, "FLUSH BINARY LOGS");
    await eventually("the binlog holding B to be archived", async () => {
      const end = (await backup("mpf-binlog")).status?.timeRange?.end;
      return end !== undefined && Date.parse(end) >= Date.parse(bAt) - 1000 ? end : undefined;
    }, 120_000);
    await server.ok(["cluster", "restore", "mpf-at-a", "--backup", "mpf-binlog", "--restore-to-time", noted, "-n", NS]);
    await waitRunning("mpf-at-a");
    assert.equal(await sql("mpf-at-a", "SELECT GROUP_CONCAT(note ORDER BY id SEPARATOR ',') FROM app.notes WHERE id > 1000"), "A");
    assert.equal(await sql("mpf-at-a", "SELECT COUNT(*) FROM app.notes WHERE id <= 200"), "200", "every row from before the backup and between it and the scale-in");
    // Restored in the topology it was backed up in: a primary and a replica cloned from it, replicating.
    const restored = await Promise.all([0, 1].map((i) => server.api<Instance>(`/apis/holdfast.io/v1alpha1/namespaces/${NS}/instances/mpf-at-a-mariadb-${i}`)));
    const primaryPort = restored.find((i) => i.status?.role === "primary")?.spec.port;
    const replica = await eventually("the restored replica replicating from the restored primary", async () => {
      const now = await server.api<Instance>(`/apis/holdfast.io/v1alpha1/namespaces/${NS}/instances/${restored.find((i) => i.status?.role !== "primary")?.metadata.name ?? ""}`);
      return now.status?.ready === true && now.status.role === "secondary" && now.status.replicationState?.streamingFrom === primaryPort ? now : undefined;
    }, 120_000);
    console.log(`restored topology: primary on port ${String(primaryPort)}, ${replica.metadata.name} replicating from it`);
  });
});
