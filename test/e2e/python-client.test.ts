// The official Python client (Debian's python3-kubernetes) against a real Holdfast server with an API token:
// /version deserializes into VersionInfo (every field present), a watch (`watch=True`) streams events, and
// create/read/patch/replace/list/delete work on a core kind (Secret) and on a KubeBlocks Cluster (custom objects).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { parse } from "yaml";
import { run, TestServer } from "../helpers/harness.ts";
import { exampleWith } from "../helpers/manifests.ts";

const PYTHON = await findPythonClient();
const skip = PYTHON === undefined ? "no python3 with the kubernetes module (apt-get install python3-kubernetes)" : false;
if (skip !== false) console.log(`# skipping the Python client tests: ${skip}`);

/** A python3 that can import the kubernetes client (pyenv shims may hide Debian's). */
async function findPythonClient(): Promise<string | undefined> {
  for (const candidate of ["python3", "/usr/bin/python3"]) {
    const probe = await run("sh", ["-c", `command -v ${candidate} >/dev/null && ${candidate} -c 'import kubernetes'`]);
    if (probe.code === 0) return candidate;
  }
  return undefined;
}

// Every script reads the server, CA and token from stdin (never argv) and prints one JSON line.
const CONNECT = `
import json, sys
from kubernetes import client, watch
settings = json.loads(sys.stdin.readline())
config = client.Configuration()
config.host = settings["url"]
config.ssl_ca_cert = settings["ca"]
config.api_key = {"authorization": settings["token"]}
config.api_key_prefix = {"authorization": "Bearer"}
api = client.ApiClient(config)
`;

const SCRIPT = `${CONNECT}version = client.VersionApi(api).get_code()
names = []
for event in watch.Watch().stream(client.CoreV1Api(api).list_namespace, timeout_seconds=2):
    names.append([event["type"], event["object"].metadata.name])
print(json.dumps({"version": version.to_dict(), "events": names}))
`;

// Create, read, patch, replace, list and delete a Secret; the same and a watch on a Cluster. Prints one JSON line.
const CRUD_SCRIPT = `${CONNECT}core = client.CoreV1Api(api)
custom = client.CustomObjectsApi(api)
out = {}
core.create_namespaced_secret("demo", client.V1Secret(metadata=client.V1ObjectMeta(name="py-secret", labels={"made-by": "python"}), string_data={"k": "v"}))
out["created"] = core.read_namespaced_secret("py-secret", "demo").data
core.patch_namespaced_secret("py-secret", "demo", {"metadata": {"labels": {"patched": "yes"}}})
out["labels"] = core.read_namespaced_secret("py-secret", "demo").metadata.labels
core.replace_namespaced_secret("py-secret", "demo", client.V1Secret(metadata=client.V1ObjectMeta(name="py-secret"), string_data={"k": "w"}))
out["replaced"] = core.read_namespaced_secret("py-secret", "demo").data
out["listed"] = [s.metadata.name for s in core.list_namespaced_secret("demo").items]
core.delete_namespaced_secret("py-secret", "demo")
out["after_delete"] = [s.metadata.name for s in core.list_namespaced_secret("demo").items]
group, version, plural = "apps.kubeblocks.io", "v1", "clusters"
custom.create_namespaced_custom_object(group, version, "demo", plural, settings["cluster"])
name = settings["cluster"]["metadata"]["name"]
custom.patch_namespaced_custom_object(group, version, "demo", plural, name, {"metadata": {"labels": {"patched": "yes"}}})
got = custom.get_namespaced_custom_object(group, version, "demo", plural, name)
out["cluster_labels"] = got["metadata"].get("labels", {})
events = []
for event in watch.Watch().stream(custom.list_namespaced_custom_object, group, version, "demo", plural, timeout_seconds=2):
    events.append([event["type"], event["object"]["metadata"]["name"]])
out["events"] = events
custom.delete_namespaced_custom_object(group, version, "demo", plural, name)
print(json.dumps(out))
`;

let server: TestServer;

before(async () => {
  if (skip !== false) return;
  server = await TestServer.start();
  await server.ok(["create", "namespace", "demo"]);
});

after(async () => {
  if (skip === false) await server.destroy();
});

describe("the Python kubernetes client", { skip }, () => {
  test("reads /version and watches namespaces (watch=True)", async () => {
    const token = (JSON.parse(await server.ok(["token", "create", "--name", "python", "--expires", "1h", "-o", "json"])) as { token: string }).token;
    const settings = JSON.stringify({ url: server.url, ca: join(server.home, "tls", "ca.crt"), token });
    const result = await run(PYTHON ?? "python3", ["-c", SCRIPT], { input: `${settings}\n`, timeoutMs: 60_000 });
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    const output = JSON.parse(result.stdout.trim().split("\n").at(-1) ?? "{}") as { version: Record<string, string>; events: [string, string][] };
    assert.equal(output.version["git_version"], "v0.1.0");
    for (const field of ["major", "minor", "git_commit", "git_tree_state", "build_date", "go_version", "compiler", "platform"]) {
      assert.equal(typeof output.version[field], "string", field);
    }
    assert.ok(output.events.some(([type, name]) => type === "ADDED" && name === "demo"), JSON.stringify(output.events));
  });

  test("creates, reads, patches, replaces, lists, watches and deletes a Secret and a Cluster", async () => {
    const token = (JSON.parse(await server.ok(["token", "create", "--name", "python-crud", "--expires", "1h", "-o", "json"])) as { token: string }).token;
    const cluster = parse(
      await exampleWith("redis/cluster-standalone.yaml", (doc) => {
        doc["metadata"].name = "py-redis";
      }),
    ) as unknown;
    const settings = JSON.stringify({ url: server.url, ca: join(server.home, "tls", "ca.crt"), token, cluster });
    const result = await run(PYTHON ?? "python3", ["-c", CRUD_SCRIPT], { input: `${settings}\n`, timeoutMs: 120_000 });
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    const output = JSON.parse(result.stdout.trim().split("\n").at(-1) ?? "{}") as Record<string, unknown>;
    assert.deepEqual(output["created"], { k: Buffer.from("v").toString("base64") });
    assert.deepEqual(output["labels"], { "made-by": "python", patched: "yes" });
    assert.deepEqual(output["replaced"], { k: Buffer.from("w").toString("base64") });
    assert.ok((output["listed"] as string[]).includes("py-secret"));
    assert.ok(!(output["after_delete"] as string[]).includes("py-secret"));
    assert.deepEqual(output["cluster_labels"], { patched: "yes" });
    assert.deepEqual((output["events"] as [string, string][])[0], ["ADDED", "py-redis"]);
  });
});
