// Stock kubectl against a real Holdfast server with an API token: server-side dry run and diff change nothing,
// `kubectl wait` waits for the named OpsRequest only, and `kubectl get NAME -w` streams that object only. Also the
// CLI's side of names: `holdfast delete secret ..` never reaches the namespace. And kubectl's everyday verbs on the
// KubeBlocks PostgreSQL example: apply (client-side and --server-side), get with holdfast get's columns, explain,
// patch (json, strategic), diff, create namespace, auth can-i and delete -f.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { eventually, run, TestServer, type CliResult } from "../helpers/harness.ts";
import { installedPostgresMajor } from "../helpers/clients.ts";
import { example, exampleWith, postgresExample } from "../helpers/manifests.ts";

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

interface ManagedCluster extends Cluster {
  metadata: Cluster["metadata"] & { managedFields?: { manager: string; operation: string }[] };
  spec: Cluster["spec"] & { componentSpecs: { name: string; replicas: number; serviceVersion: string; disableExporter?: boolean }[] };
}

describe("kubectl's everyday verbs on the PostgreSQL example", { skip }, () => {
  let manifestFile: string;
  let major: string;

  before(async () => {
    if (skip !== false) return;
    major = await installedPostgresMajor();
    manifestFile = join(server.home, "pg-cluster.yaml");
    await writeFile(manifestFile, await postgresExample(major));
  });

  const pg = async (): Promise<ManagedCluster> => {
    const cluster = await live("pg-cluster");
    assert.ok(cluster, "pg-cluster exists");
    return cluster as ManagedCluster;
  };

  test("apply -f (client-side) creates it; get clusters prints holdfast get's columns", async () => {
    assert.match(await kubectlOk(["apply", "-f", manifestFile]), /cluster\.apps\.kubeblocks\.io\/pg-cluster created/);
    const annotations = (await pg()).metadata.annotations ?? {};
    assert.ok(annotations["kubectl.kubernetes.io/last-applied-configuration"], "client-side apply keeps its last-applied annotation");
    const table = await kubectlOk(["get", "clusters"]);
    const ours = await server.ok(["get", "clusters", "-n", "demo"]);
    const headers = (text: string) => (text.split("\n")[0] ?? "").trim().split(/\s{2,}/);
    assert.deepEqual(headers(table), headers(ours));
    assert.deepEqual(headers(table), ["NAME", "CLUSTER-DEFINITION", "TERMINATION-POLICY", "STATUS", "AGE"]);
    assert.match(table, /^pg-cluster\s+postgresql\s+Delete\s/m);
    const wide = await kubectlOk(["get", "clusters", "-o", "wide"]);
    assert.match(wide.split("\n")[0] ?? "", /TOPOLOGY\s+COMPONENTS/);
    const watcher = spawnKubectl(["get", "clusters", "-w"]);
    try {
      await eventually("the watch to print a row with columns", () => Promise.resolve(/^pg-cluster\s+postgresql\s+Delete\s/m.test(watcher.output()) ? true : undefined), 30_000);
    } finally {
      watcher.stop();
    }
    assert.match(watcher.output(), /^NAME\s+CLUSTER-DEFINITION\s+TERMINATION-POLICY\s+STATUS\s+AGE/m, "watched rows are Tables too");
  });

  test("explain cluster.spec and cluster.spec.componentSpecs describe the schema", async () => {
    const spec = await kubectlOk(["explain", "cluster.spec"]);
    assert.match(spec, /KIND:\s+Cluster/);
    assert.match(spec, /componentSpecs\s+<\[\]Object>/);
    assert.match(spec, /terminationPolicy\s+<string>/);
    const components = await kubectlOk(["explain", "cluster.spec.componentSpecs"]);
    assert.match(components, /replicas\s+<integer>/);
  });

  test("a second client-side apply sends a strategic merge patch; diff shows a change and makes none", async () => {
    const changed = await postgresExample(major, (doc) => {
      doc["spec"].terminationPolicy = "WipeOut";
    });
    await writeFile(manifestFile, changed);
    const diff = await kubectl(["diff", "-f", manifestFile]);
    assert.equal(diff.code, 1, `kubectl diff exits 1 when there are differences\n${diff.stdout}\n${diff.stderr}`);
    assert.match(diff.stdout, /-\s+terminationPolicy: Delete\n\+\s+terminationPolicy: WipeOut/);
    assert.equal((await pg()).spec.terminationPolicy, "Delete", "diff changed nothing");
    const applied = await kubectl(["apply", "-f", manifestFile, "-v=6"]);
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /pg-cluster configured/);
    assert.match(applied.stderr, /PATCH https:\S+\/clusters\/pg-cluster\?fieldManager=kubectl-client-side-apply\S* 200/);
    const cluster = await pg();
    assert.equal(cluster.spec.terminationPolicy, "WipeOut");
    assert.equal(cluster.spec.componentSpecs[0]?.replicas, 1, "the rest of the spec is untouched");
  });

  test("apply --server-side: a conflict names the field and its manager; --force-conflicts takes it; managedFields are kept", async () => {
    const back = await postgresExample(major);
    await writeFile(manifestFile, back);
    const conflict = await kubectl(["apply", "--server-side", "-f", manifestFile]);
    assert.notEqual(conflict.code, 0);
    assert.match(conflict.stderr, /conflict with "kubectl-client-side-apply" using apps\.kubeblocks\.io\/v1: \.spec\.terminationPolicy/);
    assert.equal((await pg()).spec.terminationPolicy, "WipeOut", "a refused apply changes nothing");
    assert.match(await kubectlOk(["apply", "--server-side", "--force-conflicts", "-f", manifestFile]), /pg-cluster serverside-applied/);
    const cluster = await pg();
    assert.equal(cluster.spec.terminationPolicy, "Delete");
    const managers = (cluster.metadata.managedFields ?? []).map((m) => `${m.manager}/${m.operation}`);
    assert.ok(managers.includes("kubectl/Apply"), managers.join(", "));
  });

  test("patch --type=json runs its test op first; a failing test is a 422 and changes nothing", async () => {
    const ok = [
      { op: "test", path: "/spec/terminationPolicy", value: "Delete" },
      { op: "add", path: "/metadata/labels", value: { patched: "json" } },
    ];
    assert.match(await kubectlOk(["patch", "cluster", "pg-cluster", "--type=json", "-p", JSON.stringify(ok)]), /patched/);
    assert.equal((await pg()).metadata.labels?.["patched"], "json");
    const failing = [
      { op: "test", path: "/spec/terminationPolicy", value: "WipeOut" },
      { op: "replace", path: "/spec/terminationPolicy", value: "DoNotTerminate" },
    ];
    const refused = await kubectl(["patch", "cluster", "pg-cluster", "--type=json", "-p", JSON.stringify(failing)]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /\/spec\/terminationPolicy: the value is "Delete", not "WipeOut"/);
    assert.equal((await pg()).spec.terminationPolicy, "Delete");
  });

  test("patch --type=strategic merges componentSpecs by name", async () => {
    const patch = { spec: { componentSpecs: [{ name: "postgresql", disableExporter: true }] } };
    await kubectlOk(["patch", "cluster", "pg-cluster", "--type=strategic", "-p", JSON.stringify(patch)]);
    const [component] = (await pg()).spec.componentSpecs;
    assert.ok(component);
    assert.equal(component.disableExporter, true);
    assert.equal(component.replicas, 1, "the element merged: its other fields stayed");
    assert.equal(component.serviceVersion, major);
  });

  test("create namespace and auth can-i (protobuf bodies) work", async () => {
    assert.match(await kubectlOk(["create", "namespace", "from-kubectl"]), /namespace\/from-kubectl created/);
    assert.equal((await server.fetch("/api/v1/namespaces/from-kubectl")).status, 200);
    assert.equal((await kubectlOk(["auth", "can-i", "create", "clusters"])).trim(), "yes");
    const impersonated = await kubectl(["auth", "can-i", "create", "clusters", "--as", "someone"]);
    assert.notEqual(impersonated.code, 0, "impersonation is refused, not ignored");
    assert.match(impersonated.stderr, /impersonation .* is not supported/);
  });

  test("pods are not Instances; get instances works under its own name", async () => {
    const pods = await kubectl(["get", "pods"]);
    assert.notEqual(pods.code, 0);
    assert.match(pods.stderr, /doesn't have a resource type "pods"/);
    assert.match(await kubectlOk(["get", "inst"]), /^NAME\s+ROLE\s+STATUS\s+READY\s+RESTARTS\s+PORT\s+AGE/);
  });

  test("delete -f deletes what the file names", async () => {
    assert.match(await kubectlOk(["delete", "-f", manifestFile, "--wait=false"]), /cluster\.apps\.kubeblocks\.io "pg-cluster" deleted/);
    await eventually("pg-cluster to go", async () => ((await live("pg-cluster")) === undefined ? true : undefined), 180_000);
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
