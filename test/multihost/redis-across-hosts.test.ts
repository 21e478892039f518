/**
 * Issue 12, done-when 1, the Redis half: on a lab of three hosts (network namespaces, ADR 0026), a Redis replication
 * cluster with Sentinel (3 Redis instances, 3 Sentinels) runs with its instances on three different hosts, each
 * listening on its host's address in TLS only; every replica's link to its master is up over TLS (`INFO replication`,
 * `tls-replication yes`), a plain-text client gets nothing, and a TLS client inside any host writes through that
 * host's read-write endpoint on the master and reads its own writes back through the read-only endpoint.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { Lab, LAB_PREFIX, labPrerequisites, listNamespaces, type LabDescription } from "../../src/lab/index.ts";
import type { Cluster, ClusterEndpoint, Instance } from "../../src/api/index.ts";
import { eventually, run } from "../helpers/harness.ts";
import { exampleWith } from "../helpers/manifests.ts";

const HOSTS = ["hf-lab-1", "hf-lab-2", "hf-lab-3"];
const NAME = "lab-redis";
const MEMBERS = [0, 1, 2].map((i) => `${NAME}-redis-${i}`);
const SENTINELS = [0, 1, 2].map((i) => `${NAME}-redis-sentinel-${i}`);

/** Why this file cannot run here: missing prerequisites, or another lab's namespaces (never touched). */
async function skipReason(): Promise<string | undefined> {
  const missing = labPrerequisites();
  if (missing.length > 0) return `the lab cannot run here: ${missing.join("; ")}`;
  const others = (await listNamespaces()).filter((name) => name.startsWith(LAB_PREFIX));
  return others.length > 0 ? `namespaces ${others.join(", ")} exist (another lab is up); not touching them` : undefined;
}

const skip = await skipReason();

describe("a Redis replication cluster with Sentinel across three lab hosts", { skip, timeout: 1_200_000 }, () => {
  const home = `/tmp/hf-lab-redis-${process.pid}`;
  let lab: Lab;
  let described: LabDescription;
  let caFile = "";

  before(async () => {
    const started = performance.now();
    lab = await Lab.up({ hosts: 3, home });
    described = lab.describe();
    caFile = join(described.hosts[0]?.home ?? "", "tls", "ca.crt");
    console.log(`lab up --hosts 3 took ${((performance.now() - started) / 1000).toFixed(1)} s`);
  });

  after(async () => {
    if (Lab.exists(home)) await Lab.down(home);
  });

  async function get<T>(kind: string, name: string): Promise<T> {
    const result = await lab.holdfast(1, ["get", kind, name, "-o", "json"]);
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as T;
  }

  function addressOf(node: string | undefined): string {
    return described.hosts.find((h) => h.name === node)?.address ?? assert.fail(`no lab host ${String(node)}`);
  }

  /** redis-cli inside `host`'s namespace, over TLS checked against the cluster CA, through `uri`; its output. */
  async function cli(host: string, uri: string, ...command: string[]): Promise<string> {
    const result = await lab.exec(host, ["redis-cli", "--no-auth-warning", "--tls", "--cacert", caFile, "-u", uri, ...command], { timeoutMs: 30_000 });
    assert.equal(result.code, 0, `${host}: ${result.stderr}`);
    return result.stdout.trim();
  }

  /** The read-write URI `cluster connect --show-uri` gives on `host` (rediss://, that host's address), on `port`. */
  async function uriOn(host: string, port?: number): Promise<string> {
    const shown = await lab.holdfast(host, ["cluster", "connect", NAME, "--show-uri"]);
    assert.equal(shown.code, 0, shown.stderr);
    const url = new URL(shown.stdout.trim());
    if (port !== undefined) url.port = String(port);
    return url.toString();
  }

  function infoField(info: string, field: string): string | undefined {
    return info.split("\n").find((l) => l.startsWith(`${field}:`))?.slice(field.length + 1).trim();
  }

  test("the instances run on three different hosts and replicate over TLS from the master's host address", async () => {
    const version = /v=(\d+\.\d+\.\d+)/.exec((await run("redis-server", ["--version"])).stdout)?.[1] ?? assert.fail("redis-server --version");
    const manifest = await exampleWith("redis/cluster.yaml", (doc) => {
      doc["metadata"].name = NAME;
      doc["metadata"].namespace = "default";
      for (const component of doc["spec"].componentSpecs) {
        component.serviceVersion = version;
        if (component.name === "redis") component.replicas = 3;
      }
    });
    const started = performance.now();
    const applied = await lab.holdfast(2, ["apply", "-f", "-"], { input: manifest });
    assert.equal(applied.code, 0, applied.stderr);
    const waited = await lab.holdfast(2, ["wait", `cluster/${NAME}`, "--for=phase=Running", "--timeout=300s"], { timeoutMs: 320_000 });
    assert.equal(waited.code, 0, waited.stderr);
    const settled = await eventually("a master and two online replicas", async () => {
      const cluster = await get<Cluster>("cluster", NAME);
      const primary = cluster.status?.replication?.["redis"]?.currentPrimary;
      const members = await Promise.all(MEMBERS.map((name) => get<Instance>("instance", name)));
      const online = members.every((i) => i.status?.ready === true && (i.metadata.name === primary || i.status.replication?.state === "online"));
      return primary !== undefined && online ? { primary, members } : undefined;
    }, 240_000);
    console.log(`Running and replicating ${Math.round(performance.now() - started)} ms after apply: ${settled.members.map((i) => `${i.metadata.name} on ${i.spec.nodeName ?? "?"}`).join(", ")}`);
    assert.deepEqual(new Set(settled.members.map((i) => i.spec.nodeName)).size, 3, "one Redis instance per host");
    const sentinels = await Promise.all(SENTINELS.map((name) => get<Instance>("instance", name)));
    assert.deepEqual(new Set(sentinels.map((i) => i.spec.nodeName)).size, 3, "one Sentinel per host");
    const master = settled.members.find((i) => i.metadata.name === settled.primary) ?? assert.fail("the master");
    const base = new URL(await uriOn("hf-lab-1"));
    for (const member of settled.members) {
      assert.equal(member.status?.host, addressOf(member.spec.nodeName), `${member.metadata.name} listens on its host's address`);
      const url = new URL(base);
      url.hostname = member.status.host;
      url.port = String(member.spec.port);
      // Asked from another host than the member's: across the lab network.
      const from = HOSTS.find((h) => h !== member.spec.nodeName) ?? "";
      assert.equal(await cli(from, url.toString(), "CONFIG", "GET", "tls-replication"), "tls-replication\nyes");
      if (member === master) continue;
      const info = await cli(from, url.toString(), "INFO", "replication");
      assert.deepEqual([infoField(info, "role"), infoField(info, "master_host"), infoField(info, "master_link_status")], ["slave", addressOf(master.spec.nodeName), "up"], info);
      const plain = await lab.exec(from, ["redis-cli", "-h", member.status.host, "-p", String(member.spec.port), "PING"], { timeoutMs: 15_000 });
      assert.doesNotMatch(plain.stdout + plain.stderr, /PONG|NOAUTH/, "a plain-text client gets nothing");
    }
  });

  test("a TLS client on any host writes through that host's read-write endpoint on the master and reads it back read-only", async () => {
    const cluster = await get<Cluster>("cluster", NAME);
    const ro = cluster.status?.endpoints?.find((e: ClusterEndpoint) => e.access === "ReadOnly") ?? assert.fail("a read-only endpoint");
    for (const host of HOSTS) {
      const uri = await uriOn(host);
      assert.equal(new URL(uri).hostname, addressOf(host), "--show-uri names the address of the host the CLI talks to");
      assert.equal(infoField(await cli(host, uri, "INFO", "replication"), "role"), "master");
      assert.equal(await cli(host, uri, "SET", `written-on-${host}`, host), "OK");
      const readOnly = await uriOn(host, ro.port);
      await eventually(`${host}'s write through its read-only endpoint`, async () => {
        const result = await lab.exec(host, ["redis-cli", "--no-auth-warning", "--tls", "--cacert", caFile, "-u", readOnly, "GET", `written-on-${host}`]);
        return result.stdout.trim() === host ? true : undefined;
      }, 15_000);
    }
  });
});
