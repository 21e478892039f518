import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findKind } from "../api/index.ts";
import type { KindInfo, Resource } from "../api/index.ts";
import { builtinEngines } from "../engines/index.ts";
import { buildClusterManifest } from "./cluster-create.ts";
import { credentialsFromSecret, pickInstance } from "./cluster-connect.ts";
import { runClientProcess } from "./client-process.ts";
import { renderDescription } from "./describe.ts";
import { eventAge, latestWarning } from "./events.ts";
import { parseTarget } from "./kinds.ts";
import { detachedArgs, parseListen } from "./server.ts";
import { tableFor } from "./tables.ts";
import { isHopeless, isSatisfied, parseWaitFor } from "./wait.ts";

const NOW = new Date("2025-06-01T12:00:00Z");

function kind(name: string): KindInfo {
  const info = findKind(name);
  assert.ok(info, name);
  return info;
}

function instance(name: string, status: Record<string, unknown>, role = "primary"): Resource {
  return {
    apiVersion: "holdfast.io/v1alpha1",
    kind: "Instance",
    metadata: { name, namespace: "demo", creationTimestamp: "2025-06-01T11:55:00Z" },
    spec: { engine: "postgresql", version: "15.18", clusterName: "pg", componentName: "postgresql", ordinal: 0, port: 20001, running: true, role },
    status,
  };
}

test("parseTarget accepts KIND NAME and KIND/NAME", () => {
  assert.deepEqual(parseTarget(["cl", "a", "b"], "get").names, ["a", "b"]);
  const slashed = parseTarget(["cluster/a", "clusters/b"], "get");
  assert.equal(slashed.info.kind, "Cluster");
  assert.deepEqual(slashed.names, ["a", "b"]);
  assert.throws(() => parseTarget(["cluster/a", "ops/b"], "get"), /same kind/);
  assert.throws(() => parseTarget(["widgets"], "get"), /doesn't have a resource type "widgets"/);
  assert.throws(() => parseTarget([], "get"), /must specify the type/);
});

test("instance tables show role, phase, restarts and port; wide adds pid and version", () => {
  const row = tableFor(kind("inst"), false, false).row(instance("pg-postgresql-0", { phase: "Running", ready: true, role: "primary", restartCount: 2, pid: 42 }), NOW);
  assert.deepEqual(row, ["pg-postgresql-0", "primary", "Running", "true", "2", "20001", "5m"]);
  const wide = tableFor(kind("inst"), true, true);
  assert.deepEqual(wide.headers, ["NAMESPACE", "NAME", "ROLE", "STATUS", "READY", "RESTARTS", "PORT", "AGE", "PID", "VERSION", "CLUSTER", "NODE"]);
  assert.deepEqual(tableFor(kind("cl"), false, true).headers, ["NAMESPACE", "NAME", "CLUSTER-DEFINITION", "TERMINATION-POLICY", "STATUS", "AGE"]);
  assert.deepEqual(tableFor(kind("secret"), false, false).row({ apiVersion: "v1", kind: "Secret", metadata: { name: "s" }, type: "Opaque", data: { username: "cG9zdGdyZXM=", password: "eA==" } }, NOW), ["s", "Opaque", "2", "<unknown>"]);
});

test("event ages show repetitions like kubectl describe", () => {
  const event: Resource = { apiVersion: "v1", kind: "Event", metadata: { name: "e" }, type: "Warning", reason: "BackOff", message: "restarting", count: 5, firstTimestamp: "2025-06-01T11:50:00Z", lastTimestamp: "2025-06-01T11:57:00Z" };
  assert.equal(eventAge(event, NOW), "3m (x5 over 10m)");
  assert.equal(eventAge({ ...event, count: 1 }, NOW), "3m");
  assert.equal(latestWarning([{ ...event, message: "older" }, event, { ...event, type: "Normal", message: "fine" }]), "BackOff: restarting");
});

test("describe of a cluster lists components, instances, conditions and events; never secret values", () => {
  const cluster: Resource = {
    apiVersion: "apps.kubeblocks.io/v1",
    kind: "Cluster",
    metadata: { name: "pg", namespace: "demo", uid: "u", creationTimestamp: "2025-06-01T11:00:00Z", labels: { a: "1", b: "2" } },
    spec: { clusterDef: "postgresql", topology: "standalone", terminationPolicy: "Delete", componentSpecs: [{ name: "postgresql", replicas: 1 }] },
    status: {
      phase: "Running",
      conditions: [{ type: "Ready", status: "True", reason: "ClusterReady", message: "ok", lastTransitionTime: "2025-06-01T11:58:00Z" }],
      components: { postgresql: { phase: "Running", replicas: 1, readyReplicas: 1, instances: [{ name: "pg-postgresql-0", port: 20001, role: "primary", phase: "Running", ready: true, restartCount: 3 }] } },
    },
  };
  const text = renderDescription(cluster, [], NOW);
  assert.match(text, /^Labels:\s+a=1\n\s+b=2\n/m);
  assert.match(text, /Termination Policy:\s+Delete/);
  assert.match(text, /pg-postgresql-0\s+postgresql\s+primary\s+Running\s+true\s+3\s+20001/);
  assert.match(text, /Ready\s+True\s+ClusterReady\s+ok\s+2m ago/);
  assert.match(text, /Events:\s+<none>/);
  const secret: Resource = { apiVersion: "v1", kind: "Secret", metadata: { name: "s", namespace: "demo" }, type: "Opaque", data: { password: Buffer.from("hunter2-secret").toString("base64") } };
  const described = renderDescription(secret, [], NOW);
  assert.match(described, /password:\s+14 bytes/);
  assert.doesNotMatch(described, /hunter2|aHVudGVy/);
});

test("wait conditions", () => {
  assert.deepEqual(parseWaitFor("phase=Running"), { kind: "phase", phase: "Running" });
  assert.deepEqual(parseWaitFor("condition=Ready"), { kind: "condition", type: "Ready", status: "True" });
  assert.deepEqual(parseWaitFor("condition=Ready=False"), { kind: "condition", type: "Ready", status: "False" });
  assert.deepEqual(parseWaitFor("delete"), { kind: "delete" });
  assert.throws(() => parseWaitFor("phase="), /invalid --for/);
  assert.throws(() => parseWaitFor("jsonpath={.x}"), /invalid --for/);
  const cluster: Resource = { apiVersion: "apps.kubeblocks.io/v1", kind: "Cluster", metadata: { name: "pg" }, status: { phase: "Running", conditions: [{ type: "Ready", status: "False" }] } };
  assert.equal(isSatisfied(cluster, parseWaitFor("phase=running")), true);
  assert.equal(isSatisfied(cluster, parseWaitFor("phase=Stopped")), false);
  assert.equal(isSatisfied(cluster, parseWaitFor("condition=Ready")), false);
  assert.equal(isSatisfied(cluster, parseWaitFor("condition=Ready=False")), true);
  const failedOps: Resource = { apiVersion: "operations.kubeblocks.io/v1alpha1", kind: "OpsRequest", metadata: { name: "r" }, status: { phase: "Failed" } };
  assert.equal(isHopeless(failedOps, parseWaitFor("phase=Succeed")), true);
  assert.equal(isHopeless({ ...failedOps, status: { phase: "Running" } }, parseWaitFor("phase=Succeed")), false);
  assert.equal(isHopeless(cluster, parseWaitFor("phase=Stopped")), false);
});

test("cluster create builds a KubeBlocks Cluster from the engine's topology", () => {
  const postgresql = builtinEngines().find((e) => e.name === "postgresql");
  assert.ok(postgresql);
  const manifest = buildClusterManifest(postgresql, { name: "pg", namespace: "demo", terminationPolicy: "Delete", version: "15", memory: "1Gi", cpu: "1" });
  assert.deepEqual(manifest.spec, {
    clusterDef: "postgresql",
    topology: postgresql.definition.topologies.find((t) => t.default)?.name,
    terminationPolicy: "Delete",
    componentSpecs: [{ name: "postgresql", serviceVersion: "15", replicas: 1, resources: { limits: { cpu: "1", memory: "1Gi" }, requests: { cpu: "1", memory: "1Gi" } } }],
  });
  assert.throws(() => buildClusterManifest(postgresql, { name: "pg", namespace: "demo", terminationPolicy: "Halt" }), /termination-policy/);
  assert.throws(() => buildClusterManifest(postgresql, { name: "pg", namespace: "demo", terminationPolicy: "Delete", topology: "galaxy" }), /no topology "galaxy"/);
  assert.throws(() => buildClusterManifest(postgresql, { name: "pg", namespace: "demo", terminationPolicy: "Delete", replicas: 99 }), /replica/);
});

test("cluster create gives Redis replication two data replicas and three Sentinels unless told otherwise", () => {
  const redis = builtinEngines().find((e) => e.name === "redis");
  assert.ok(redis);
  const counts = (replicas?: number): unknown => {
    const manifest = buildClusterManifest(redis, { name: "r", namespace: "demo", terminationPolicy: "Delete", topology: "replication", ...(replicas === undefined ? {} : { replicas }) });
    return (manifest.spec as { componentSpecs: { name: string; replicas: number }[] }).componentSpecs.map((c) => [c.name, c.replicas]);
  };
  assert.deepEqual(counts(), [["redis", 2], ["redis-sentinel", 3]]);
  assert.deepEqual(counts(3), [["redis", 3], ["redis-sentinel", 3]]);
});

test("connect picks the ready primary and decodes the account secret", () => {
  const chosen = pickInstance([
    instance("pg-postgresql-0", { ready: false, role: "primary" }),
    instance("pg-postgresql-1", { ready: true, role: "secondary" }, "secondary"),
    instance("pg-postgresql-2", { ready: true, role: "primary" }),
  ]);
  assert.equal(chosen?.metadata.name, "pg-postgresql-2");
  assert.equal(pickInstance([instance("a", { ready: false })]), undefined);
  const secret: Resource = { apiVersion: "v1", kind: "Secret", metadata: { name: "s" }, data: { username: Buffer.from("postgres").toString("base64"), password: Buffer.from("p:w@d").toString("base64") } };
  assert.deepEqual(credentialsFromSecret(secret), { username: "postgres", password: "p:w@d" });
  assert.throws(() => credentialsFromSecret({ ...secret, data: {} }), /no username or password/);
});

test("the client's password file is private while it runs and removed afterwards", async () => {
  const dir = await mkdtemp(join(tmpdir(), "holdfast-cli-test-"));
  try {
    const report = join(dir, "report");
    const code = await runClientProcess(
      { command: "sh", args: ["-c", `stat -c %a "$HF_PASSFILE" > "${report}"; cat "$HF_PASSFILE" >> "${report}"; echo "$HF_PASSFILE" >> "${report}"; exit 3`], env: {}, passwordFile: { envVar: "HF_PASSFILE", content: "secret-line\n" } },
      "install sh",
    );
    assert.equal(code, 3);
    const [mode, content, path] = (await readFile(report, "utf8")).trim().split("\n");
    assert.equal(mode, "600");
    assert.equal(content, "secret-line");
    assert.ok(path !== undefined && path !== "");
    assert.equal(existsSync(path), false);
    await assert.rejects(runClientProcess({ command: "no-such-client-xyz", args: [], env: {} }, "install it"), /no-such-client-xyz was not found on this host; install it/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("server listen addresses and background arguments", () => {
  assert.deepEqual(parseListen(undefined), { host: "127.0.0.1", port: 7420 });
  assert.deepEqual(parseListen("0.0.0.0:8080"), { host: "0.0.0.0", port: 8080 });
  assert.deepEqual(parseListen(":9000"), { host: "127.0.0.1", port: 9000 });
  assert.deepEqual(parseListen("9001"), { host: "127.0.0.1", port: 9001 });
  assert.deepEqual(parseListen("[::1]:7420"), { host: "::1", port: 7420 });
  assert.throws(() => parseListen("host:port"), /invalid --listen/);
  assert.throws(() => parseListen("h:70000"), /invalid --listen/);
  assert.deepEqual(detachedArgs("/r/src/cli/main.ts", "/h", { detach: true, listen: "127.0.0.1:1", "log-level": "debug" }), ["/r/src/cli/main.ts", "server", "--home", "/h", "--listen", "127.0.0.1:1", "--log-level", "debug"]);
});
