/** Done-when 3: bad input gets a non-zero exit and a Status naming the field, and creates nothing. */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { TestServer } from "../helpers/harness.ts";
import { startDemoServer } from "../helpers/clients.ts";
import { postgresExample } from "../helpers/manifests.ts";

let server: TestServer;
let major: string;

before(async () => {
  ({ server, major } = await startDemoServer());
});

after(async () => {
  await server.destroy();
});

async function refused(manifest: string, expected: RegExp[]): Promise<void> {
  const result = await server.cli(["apply", "-f", "-"], manifest);
  assert.notEqual(result.code, 0, `accepted:\n${manifest}`);
  for (const pattern of expected) assert.match(result.stderr, pattern);
  const clusters = await server.api<{ items: unknown[] }>("/apis/apps.kubeblocks.io/v1/clusters");
  assert.equal(clusters.items.length, 0, "nothing was created");
}

test("unknown kind", async () => {
  await refused("apiVersion: apps.kubeblocks.io/v1\nkind: Clustr\nmetadata: {name: x, namespace: demo}\nspec: {}\n", [/Clustr/]);
});

test("wrong field type", async () => {
  await refused(await postgresExample(major, (d) => (d["spec"].componentSpecs[0].replicas = "three")), [/spec\.componentSpecs\[0\]\.replicas/]);
});

test("missing required field", async () => {
  await refused(await postgresExample(major, (d) => delete d["spec"].componentSpecs), [/spec\.componentSpecs/]);
});

test("negative replicas", async () => {
  await refused(await postgresExample(major, (d) => (d["spec"].componentSpecs[0].replicas = -1)), [/spec\.componentSpecs\[0\]\.replicas/]);
});

test("unknown engine / clusterDef", async () => {
  await refused(await postgresExample(major, (d) => (d["spec"].clusterDef = "oracle")), [/spec\.clusterDef/, /oracle/]);
});

test("a version that is not installed lists the installed ones", async () => {
  await refused(await postgresExample("14.7.2"), [/serviceVersion/, /14\.7\.2/, new RegExp(`${major}\\.`)]);
});

test("a name that is not a DNS-1123 label", async () => {
  await refused(await postgresExample(major, (d) => (d["metadata"].name = "Bad_Name")), [/metadata\.name/]);
});

test("a namespace that does not exist", async () => {
  await refused(await postgresExample(major, (d) => (d["metadata"].namespace = "nowhere")), [/nowhere/]);
});

test("malformed YAML", async () => {
  await refused("apiVersion: v1\nkind: [unclosed\n", [/YAML|yaml|line/]);
});
