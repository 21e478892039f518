// Stock kubectl against a real Holdfast server with an API token: server-side dry run and diff change nothing,
// `kubectl wait` waits for the named OpsRequest only, and `kubectl get NAME -w` streams that object only. Also the
// CLI's side of names: `holdfast delete secret ..` never reaches the namespace.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { eventually, run, TestServer, type CliResult } from "../helpers/harness.ts";
import { example, exampleWith } from "../helpers/manifests.ts";

const KUBECTL = await findKubectl();
const skip = KUBECTL === undefined ? "kubectl is not on PATH (install kubectl 1.32 to run these tests)" : false;
if (skip !== false) console.log(`# skipping the kubectl tests: ${skip}`);

async function findKubectl(): Promise<string | undefined> {
  const found = await run("sh", ["-c", "command -v kubectl"]);
  const path = found.stdout.trim();
  return found.code === 0 && path !== "" ? path : undefined;
}

let server: TestServer;
let kubeconfig: string;

interface Cluster {
  metadata: { name: string; resourceVersion: string; generation: number; deletionTimestamp?: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  spec: { terminationPolicy: string };
}

function kubectl(args: string[], input?: string): Promise<CliResult> {
  return run(KUBECTL ?? "kubectl", ["--kubeconfig", kubeconfig, ...args], { env: { ...process.env, HOME: server.home, KUBECONFIG: kubeconfig }, timeoutMs: 240_000, ...(input === undefined ? {} : { input }) });
}

async function kubectlOk(args: string[], input?: string): Promise<string> {
  const result = await kubectl(args, input);
  assert.equal(result.code, 0, `kubectl ${args.join(" ")} exited ${result.code}\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

async function live(name: string): Promise<Cluster | undefined> {
  const response = await server.fetch(`/apis/apps.kubeblocks.io/v1/namespaces/demo/clusters/${name}`);
  if (response.status === 404) return undefined;
  return (await response.json()) as Cluster;
}

async function opsPhase(name: string): Promise<string> {
  const ops = await server.api<{ status?: { phase?: string } }>(`/apis/operations.kubeblocks.io/v1alpha1/namespaces/demo/opsrequests/${name}`);
  return ops.status?.phase ?? "";
}

function restart(name: string): string {
  return JSON.stringify({
    apiVersion: "operations.kubeblocks.io/v1alpha1",
    kind: "OpsRequest",
    metadata: { name, namespace: "demo" },
    spec: { clusterName: "redis-standalone", type: "Restart", restart: [{ componentName: "redis" }] },
  });
}

before(async () => {
  if (skip !== false) return;
  server = await TestServer.start();
  await server.ok(["create", "namespace", "demo"]);
  const token = (JSON.parse(await server.ok(["token", "create", "--name", "kubectl", "--expires", "1d", "-o", "json"])) as { token: string }).token;
  kubeconfig = join(server.home, "kubeconfig");
  const config = [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- name: holdfast",
    "  cluster:",
    `    server: ${server.url}`,
    `    certificate-authority: ${join(server.home, "tls", "ca.crt")}`,
    "users:",
    "- name: holdfast",
    "  user:",
    `    token: ${token}`,
    "contexts:",
    "- name: holdfast",
    "  context: {cluster: holdfast, user: holdfast, namespace: demo}",
    "current-context: holdfast",
    "",
  ].join("\n");
  await writeFile(kubeconfig, config, { mode: 0o600 });
});

after(async () => {
  if (skip === false) await server.destroy();
});

describe("kubectl against Holdfast", { skip }, () => {
  test("apply --dry-run=server, diff and delete --dry-run=server change nothing", async () => {
    const manifest = await example("redis/cluster-standalone.yaml");
    const created = await kubectlOk(["apply", "--dry-run=server", "-f", "-"], manifest);
    assert.match(created, /redis-standalone created \(server dry run\)/);
    assert.equal(await live("redis-standalone"), undefined, "a server-side dry run of a create stores nothing");

    await server.ok(["apply", "-f", "-"], manifest);
    const before = await live("redis-standalone");
    assert.ok(before);
    const changed = await exampleWith("redis/cluster-standalone.yaml", (doc) => {
      doc["spec"].terminationPolicy = "WipeOut";
    });
    await kubectlOk(["apply", "--dry-run=server", "-f", "-"], changed);
    const diffFile = join(server.home, "changed.yaml");
    await writeFile(diffFile, changed);
    const diff = await kubectl(["diff", "-f", diffFile]);
    assert.equal(diff.code, 1, `kubectl diff exits 1 when there are differences\n${diff.stdout}\n${diff.stderr}`);
    assert.match(diff.stdout, /\+\s+terminationPolicy: WipeOut/);
    await kubectlOk(["delete", "--dry-run=server", "cluster", "redis-standalone"]);
    const after = await live("redis-standalone");
    assert.equal(after?.spec.terminationPolicy, "Delete", "the live object kept its spec");
    // Controllers write status meanwhile, so the resourceVersion moves; what a user writes did not.
    assert.equal(after.metadata.generation, before.metadata.generation, "no spec write happened");
    assert.deepEqual(after.metadata.annotations, before.metadata.annotations, "kubectl's last-applied annotation was not stored");
    assert.equal(after.metadata.deletionTimestamp, undefined);
  });

  test("kubectl wait --for=jsonpath waits for the named OpsRequest, not for another that already succeeded", async () => {
    await server.ok(["wait", "cluster/redis-standalone", "-n", "demo", "--for=phase=Running", "--timeout=180s"]);
    await server.ok(["apply", "-f", "-"], restart("restart-b"));
    await eventually("OpsRequest restart-b to succeed", async () => ((await opsPhase("restart-b")) === "Succeed" ? true : undefined), 180_000);
    await server.ok(["apply", "-f", "-"], restart("restart-a"));
    const waited = await kubectlOk(["wait", "--for=jsonpath={.status.phase}=Succeed", "opsrequest/restart-a", "--timeout=180s"]);
    assert.match(waited, /restart-a condition met/);
    assert.equal(await opsPhase("restart-a"), "Succeed", "kubectl wait returned only once restart-a itself had succeeded");
  });

  test("kubectl get cluster NAME -w streams that cluster only", async () => {
    const watcher = spawnKubectl(["get", "cluster", "redis-standalone", "-w", "-o", "name"]);
    try {
      await eventually("the watch to list redis-standalone", () => Promise.resolve(watcher.output().includes("redis-standalone") ? true : undefined), 30_000);
      await sleep(500);
      const other = await exampleWith("redis/cluster-standalone.yaml", (doc) => {
        doc["metadata"].name = "redis-other";
      });
      await server.ok(["apply", "-f", "-"], other);
      assert.equal(await label("redis-other", "other"), 200);
      await server.ok(["delete", "cluster", "redis-other", "-n", "demo", "--wait", "--timeout=120s"]);
      assert.equal(await label("redis-standalone", "seen"), 200);
      await eventually("the watch to show redis-standalone's change", () => Promise.resolve(countOf(watcher.output(), "redis-standalone") >= 2 ? true : undefined), 30_000);
      await sleep(500);
    } finally {
      watcher.stop();
    }
    assert.ok(!watcher.output().includes("redis-other"), `the watch streamed another cluster:\n${watcher.output()}`);
  });
});

describe("the CLI never sends '.' or '..' as a name", { skip }, () => {
  test("holdfast delete secret .. and get secret . are refused; the namespace stays", async () => {
    const deleted = await server.cli(["delete", "secret", "..", "-n", "demo"]);
    assert.notEqual(deleted.code, 0);
    assert.match(deleted.stderr, /not a valid secret name/);
    const got = await server.cli(["get", "secret", ".", "-n", "demo"]);
    assert.notEqual(got.code, 0);
    assert.doesNotMatch(got.stderr, /TypeError/);
    assert.match(got.stderr, /not a valid secret name/);
    const namespace = await server.fetch("/api/v1/namespaces/demo");
    assert.equal(namespace.status, 200);
    assert.equal(((await namespace.json()) as { metadata: { deletionTimestamp?: string } }).metadata.deletionTimestamp, undefined);
  });
});

async function label(name: string, marker: string): Promise<number> {
  const response = await server.fetch(`/apis/apps.kubeblocks.io/v1/namespaces/demo/clusters/${name}`, {
    method: "PATCH",
    headers: { "Content-Type": "application/merge-patch+json" },
    body: JSON.stringify({ metadata: { labels: { marker } } }),
  });
  await response.body?.cancel();
  return response.status;
}

function countOf(text: string, word: string): number {
  return text.split("\n").filter((line) => line.includes(word)).length;
}

function spawnKubectl(args: string[]): { output(): string; stop(): void } {
  const child: ChildProcess = spawn(KUBECTL ?? "kubectl", ["--kubeconfig", kubeconfig, ...args], { env: { ...process.env, HOME: server.home }, stdio: ["ignore", "pipe", "pipe"] });
  let text = "";
  child.stdout?.on("data", (chunk: Buffer) => (text += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (text += chunk.toString()));
  return {
    output: () => text,
    stop: () => {
      if (child.exitCode === null) child.kill("SIGTERM");
    },
  };
}
