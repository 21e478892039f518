/**
 * Issue 10, item 10: an instance whose recorded port another program took while the cluster was stopped
 * moves to a new port on Start instead of crash-looping: the cluster ends Running, the endpoint and the
 * connection URI lead to the new port, replicas follow a moved primary, and an event names both ports.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import type { Cluster, Instance } from "../../src/api/index.ts";
import { connectionUri, psql, redisCli, redisConnection, startDemoServer } from "../helpers/clients.ts";
import { eventually, type TestServer } from "../helpers/harness.ts";
import { exampleWith } from "../helpers/manifests.ts";

const NS = "demo";

let server: TestServer;
let major: string;
const squatters: ChildProcess[] = [];

before(async () => {
  ({ server, major } = await startDemoServer());
});

after(async () => {
  for (const squatter of squatters) squatter.kill("SIGKILL");
  await server.destroy();
});

async function instance(name: string): Promise<Instance> {
  return server.api<Instance>(`/apis/holdfast.io/v1alpha1/namespaces/${NS}/instances/${name}`);
}

async function cluster(name: string): Promise<Cluster> {
  return server.api<Cluster>(`/apis/apps.kubeblocks.io/v1/namespaces/${NS}/clusters/${name}`);
}

/** Another program (a separate process) listening on 127.0.0.1:port until the tests end. */
async function occupy(port: number): Promise<void> {
  const script = `require("node:net").createServer().listen(${port}, "127.0.0.1", () => console.log("listening"))`;
  const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  squatters.push(child);
  const [chunk] = (await once(child.stdout, "data")) as [Buffer];
  assert.equal(chunk.toString().trim(), "listening", `the squatter could not listen on ${port}`);
}

async function stop(opsName: string, clusterName: string): Promise<void> {
  await server.ok(["apply", "-f", "-"], opsRequest(opsName, clusterName, "Stop"));
  await server.ok(["wait", `opsrequest/${opsName}`, "-n", NS, "--for=phase=Succeed", "--timeout=120s"]);
}

async function start(opsName: string, clusterName: string): Promise<void> {
  await server.ok(["apply", "-f", "-"], opsRequest(opsName, clusterName, "Start"));
  await server.ok(["wait", `opsrequest/${opsName}`, "-n", NS, "--for=phase=Succeed", "--timeout=180s"]);
  await server.ok(["wait", `cluster/${clusterName}`, "-n", NS, "--for=phase=Running", "--timeout=120s"]);
}

function opsRequest(name: string, clusterName: string, type: string): string {
  return JSON.stringify({ apiVersion: "operations.kubeblocks.io/v1alpha1", kind: "OpsRequest", metadata: { name, namespace: NS }, spec: { clusterName, type } });
}

/** The cluster's events with `reason`, as the API lists them. */
async function clusterEvents(clusterName: string, reason: string): Promise<string[]> {
  const { items } = await server.api<{ items: { reason?: string; message?: string; involvedObject?: { kind?: string; name?: string } }[] }>(`/api/v1/namespaces/${NS}/events`);
  return items.filter((e) => e.involvedObject?.kind === "Cluster" && e.involvedObject.name === clusterName && e.reason === reason).map((e) => e.message ?? "");
}

/** A URI with its port replaced. */
function onPort(uri: string, port: number): string {
  const url = new URL(uri);
  url.port = String(port);
  return url.toString();
}

async function sql(uri: string, text: string): Promise<string> {
  const result = await psql(uri, text);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.trim();
}

describe("PostgreSQL replication cluster: the primary's and a replica's ports are taken while stopped", () => {
  const name = "pg-squat";
  const primary = `${name}-postgresql-0`;
  const replica = `${name}-postgresql-1`;

  test("Start moves both to new ports, the replica streams from the moved primary, the endpoint follows", async () => {
    const manifest = await exampleWith("postgresql/cluster.yaml", (doc) => {
      doc["metadata"].name = name;
      doc["spec"].componentSpecs[0].replicas = 2;
      doc["spec"].componentSpecs[0].serviceVersion = major;
    });
    await server.ok(["apply", "-f", "-"], manifest);
    await server.ok(["wait", `cluster/${name}`, "-n", NS, "--for=phase=Running", "--timeout=180s"]);
    const uri = await connectionUri(server, name, NS);
    await sql(uri, "CREATE TABLE squat (id int); INSERT INTO squat VALUES (1)");
    const oldPrimary = (await instance(primary)).spec.port;
    const oldReplica = (await instance(replica)).spec.port;

    await stop("pg-squat-stop", name);
    await occupy(oldPrimary);
    await occupy(oldReplica);
    await start("pg-squat-start", name);

    const [movedPrimary, movedReplica] = [(await instance(primary)).spec.port, (await instance(replica)).spec.port];
    assert.notEqual(movedPrimary, oldPrimary);
    assert.notEqual(movedReplica, oldReplica);
    const endpointUri = await connectionUri(server, name, NS);
    const readWrite = (await cluster(name)).status?.endpoints?.find((e) => e.access === "ReadWrite");
    assert.ok(readWrite);
    assert.equal(new URL(endpointUri).port, String(readWrite.port), "the connection URI leads through the read-write endpoint");
    await sql(endpointUri, "INSERT INTO squat VALUES (2)");
    assert.equal(await sql(onPort(endpointUri, movedPrimary), "SELECT count(*) FROM squat"), "2");
    const streamed = await eventually("the moved replica streaming the new row", async () => {
      const result = await psql(onPort(endpointUri, movedReplica), "SELECT count(*) FROM squat");
      return result.stdout.trim() === "2" ? result : undefined;
    });
    assert.equal(streamed.code, 0);
    const conninfo = await sql(onPort(endpointUri, movedReplica), "SELECT conninfo FROM pg_stat_wal_receiver");
    assert.ok(conninfo.split(" ").includes(`port=${movedPrimary}`), conninfo);
    const events = await clusterEvents(name, "PortChanged");
    assert.ok(events.some((m) => m.includes(primary) && m.includes(String(oldPrimary)) && m.includes(String(movedPrimary))), events.join("\n"));
    assert.ok(events.some((m) => m.includes(replica) && m.includes(String(oldReplica)) && m.includes(String(movedReplica))), events.join("\n"));
  });
});

describe("standalone Redis: its port is taken while stopped", () => {
  const name = "redis-squat";
  const member = `${name}-redis-0`;

  test("Start moves it to a new port and the connection URI leads there", async () => {
    const manifest = await exampleWith("redis/cluster-standalone.yaml", (doc) => (doc["metadata"].name = name));
    await server.ok(["apply", "-f", "-"], manifest);
    await server.ok(["wait", `cluster/${name}`, "-n", NS, "--for=phase=Running", "--timeout=120s"]);
    const uri = await redisConnection(server, name, NS);
    assert.equal((await redisCli(uri, "SET", "squat", "kept")).stdout.trim(), "OK");
    const oldPort = (await instance(member)).spec.port;

    await stop("redis-squat-stop", name);
    await occupy(oldPort);
    await start("redis-squat-start", name);

    const newPort = (await instance(member)).spec.port;
    assert.notEqual(newPort, oldPort);
    const moved = await redisConnection(server, name, NS);
    assert.equal(new URL(moved.uri).port, String(newPort));
    assert.equal((await redisCli(moved, "GET", "squat")).stdout.trim(), "kept");
    const events = await clusterEvents(name, "PortChanged");
    assert.ok(events.some((m) => m.includes(member) && m.includes(String(oldPort)) && m.includes(String(newPort))), events.join("\n"));
  });
});
