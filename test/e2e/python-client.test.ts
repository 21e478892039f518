// The official Python client (Debian's python3-kubernetes) against a real Holdfast server with an API token:
// /version deserializes into VersionInfo (every field present) and a watch (`watch=True`) streams events.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { run, TestServer } from "../helpers/harness.ts";

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

// Reads the server, CA and token from stdin (never argv), prints one JSON line.
const SCRIPT = `
import json, sys
from kubernetes import client, watch
settings = json.loads(sys.stdin.readline())
config = client.Configuration()
config.host = settings["url"]
config.ssl_ca_cert = settings["ca"]
config.api_key = {"authorization": settings["token"]}
config.api_key_prefix = {"authorization": "Bearer"}
api = client.ApiClient(config)
version = client.VersionApi(api).get_code()
names = []
for event in watch.Watch().stream(client.CoreV1Api(api).list_namespace, timeout_seconds=2):
    names.append([event["type"], event["object"].metadata.name])
print(json.dumps({"version": version.to_dict(), "events": names}))
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
});
