import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Instance, Node, Resource, Secret } from "../api/index.ts";
import { homePaths } from "../config/index.ts";
import type { Engine, HostAccess, InstanceContext } from "../engines/index.ts";
import { createTlsMaterial, issueInstanceCertificate, tlsPaths } from "../security/index.ts";
import { openSqliteStore, type Store } from "../store/index.ts";
import { endpointCertificateNames, InstanceCertificates } from "./instance-certificates.ts";
import { instanceTlsFiles } from "./instance-tls.ts";

function node(name: string, advertise: string): Node {
  return { apiVersion: "holdfast.io/v1alpha1", kind: "Node", metadata: { name }, status: { addresses: [{ type: "Advertise", address: advertise }, { type: "APIServer", address: `https://${advertise}:7420` }, { type: "Hostname", address: name }] } };
}

const INSTANCE: Instance = {
  apiVersion: "holdfast.io/v1alpha1",
  kind: "Instance",
  metadata: { name: "pg-postgresql-0", namespace: "demo" },
  spec: { engine: "postgresql", version: "16.4", clusterName: "pg", componentName: "postgresql", ordinal: 0, port: 20001, running: true, parameters: {}, deleteData: true },
};

/** Files written as the instance's user: here, as the test's own user. */
const host = {
  writeFile: (path: string, content: string, mode = 0o600) => writeFile(path, content, { mode }),
  mkdir: async (path: string) => {
    await mkdir(path, { recursive: true, mode: 0o700 });
  },
} as unknown as HostAccess;

describe("endpointCertificateNames", () => {
  it("names the instance's address and name, then every node's advertised address, as its databases' address", () => {
    const nodes = [node("n2", "10.0.0.2"), node("n1", "10.0.0.1"), node("laptop", "localhost"), node("any", "0.0.0.0")];
    assert.deepEqual(endpointCertificateNames("pg-postgresql-0", "10.0.0.1", nodes), ["10.0.0.1", "pg-postgresql-0", "10.0.0.2", "127.0.0.1"]);
    assert.deepEqual(endpointCertificateNames("pg-postgresql-0", "127.0.0.1", [node("one", "127.0.0.1")]), ["127.0.0.1", "pg-postgresql-0"]);
  });

  it("names every node's external address too, where exposed endpoints listen", () => {
    const exposed = node("one", "127.0.0.1");
    exposed.status?.addresses?.push({ type: "ExternalIP", address: "10.77.0.1" });
    assert.deepEqual(endpointCertificateNames("pg-postgresql-0", "127.0.0.1", [exposed, node("two", "10.0.0.2")]), ["127.0.0.1", "pg-postgresql-0", "10.0.0.2", "10.77.0.1"]);
  });
});

/** A home with a cluster CA, and the context of INSTANCE in it. */
async function instanceHome(home: string): Promise<{ paths: ReturnType<typeof homePaths>; context: InstanceContext }> {
  const paths = homePaths(home);
  await createTlsMaterial(paths.tls);
  const rootDirectory = join(home, "instances", "demo", INSTANCE.metadata.name);
  await mkdir(join(rootDirectory, "tls"), { recursive: true });
  const context = { instanceName: INSTANCE.metadata.name, rootDirectory, dataDirectory: join(rootDirectory, "data"), runDirectory: join(rootDirectory, "run"), port: 20001 } as InstanceContext;
  return { paths, context };
}

describe("InstanceCertificates", () => {
  it("a node that joins while the instance runs is named in a new certificate, which the engine reloads once", async () => {
    const home = await mkdtemp(join(tmpdir(), "hf-instance-certificates-"));
    const store: Store = openSqliteStore({ path: join(home, "store.db") });
    try {
      const { paths, context } = await instanceHome(home);
      const events: string[] = [];
      const recorder = {
        record: (_object: Resource, type: string, reason: string): Promise<void> => {
          events.push(`${type} ${reason}`);
          return Promise.resolve();
        },
      };
      let reloads = 0;
      const reloadTls = (): Promise<void> => {
        reloads++;
        return Promise.resolve();
      };
      const engine = { reloadTls } as unknown as Engine;
      const running = { instance: INSTANCE, engine, context, host, admin: { username: "postgres", password: "x" } };
      await store.create(node("n1", "10.0.0.1"));
      await store.create(node("n2", "10.0.0.2"));
      const certificates = new InstanceCertificates({ store, paths, events: recorder, address: "10.0.0.1" });

      await certificates.prepare(INSTANCE, context, host);
      await certificates.refresh(running);
      assert.equal(reloads, 0, "nothing changed since the start: no reload");
      await store.create(node("n3", "10.0.0.3"));
      await certificates.refresh(running);
      const certificate = new X509Certificate(await readFile(instanceTlsFiles(context).certificateFile));
      assert.ok(certificate.checkIP("10.0.0.3") !== undefined, "the joined node's address is named");
      assert.equal(reloads, 1);
      await certificates.refresh(running);
      assert.equal(reloads, 1, "reloaded once");
      assert.deepEqual(events, ["Normal CertificateIssued", "Normal CertificateRenewed"]);

      // A node agent that starts again does not know what the running server loaded: it reloads once, issuing nothing.
      const restarted = new InstanceCertificates({ store, paths, events: recorder, address: "10.0.0.1" });
      await restarted.refresh(running);
      await restarted.refresh(running);
      assert.equal(reloads, 2);
      assert.equal(events.length, 2);
    } finally {
      store.close();
      await rm(home, { recursive: true, force: true });
    }
  });

  it("a running instance's certificate with less than 30 days left is issued again and reloaded, without a restart", async () => {
    const home = await mkdtemp(join(tmpdir(), "hf-instance-certificates-"));
    const store: Store = openSqliteStore({ path: join(home, "store.db") });
    try {
      const { paths, context } = await instanceHome(home);
      const events: string[] = [];
      const recorder = { record: (_object: Resource, _type: string, reason: string, message: string): Promise<void> => Promise.resolve(void events.push(`${reason}: ${message}`)) };
      let reloads = 0;
      const engine = {
        reloadTls: (): Promise<void> => {
          reloads++;
          return Promise.resolve();
        },
      } as unknown as Engine;
      const running = { instance: INSTANCE, engine, context, host, admin: { username: "postgres", password: "x" } };
      await store.create(node("n1", "10.0.0.1"));
      const certificates = new InstanceCertificates({ store, paths, events: recorder, address: "10.0.0.1" });
      await certificates.prepare(INSTANCE, context, host);
      await certificates.refresh(running);
      assert.equal(reloads, 0);

      // What the server runs with now: a certificate for the right names issued 805 days ago (825-day lifetime: 20 left).
      const names = endpointCertificateNames(INSTANCE.metadata.name, "10.0.0.1", [node("n1", "10.0.0.1")]);
      const old = await issueInstanceCertificate(paths.tls, INSTANCE.metadata.name, names, new Date(Date.now() - 805 * 86_400_000));
      const files = instanceTlsFiles(context);
      await writeFile(files.keyFile, old.key, { mode: 0o600 });
      await writeFile(files.certificateFile, old.cert, { mode: 0o600 });
      await certificates.refresh(running);
      const renewed = new X509Certificate(await readFile(files.certificateFile));
      assert.ok(renewed.validToDate.getTime() - Date.now() > 800 * 86_400_000, "a new certificate with its whole lifetime");
      assert.equal(reloads, 1, "reloaded, not restarted");
      assert.match(events.at(-1) ?? "", /^CertificateRenewed: .*before it expires; reloaded without a restart$/);
      await certificates.refresh(running);
      assert.equal(reloads, 1, "once");
    } finally {
      store.close();
      await rm(home, { recursive: true, force: true });
    }
  });

  it("a user's Secret: checked and placed before a start; a rotation reloaded once; a bad one not served, said once", async () => {
    const home = await mkdtemp(join(tmpdir(), "hf-instance-certificates-"));
    const store: Store = openSqliteStore({ path: join(home, "store.db") });
    try {
      const { paths, context } = await instanceHome(home);
      const userCa = tlsPaths(join(home, "user"));
      await createTlsMaterial(userCa);
      const events: string[] = [];
      const recorder = { record: (_object: Resource, type: string, reason: string, message: string): Promise<void> => Promise.resolve(void events.push(`${type} ${reason}: ${message}`)) };
      let reloads = 0;
      const reloadTls = (): Promise<void> => {
        reloads++;
        return Promise.resolve();
      };
      const engine = { reloadTls } as unknown as Engine;
      const instance: Instance = { ...INSTANCE, spec: { ...INSTANCE.spec, clientTls: { issuer: "UserProvided", secretName: "pg-tls", ca: "ca.crt", cert: "tls.crt", key: "tls.key" } } };
      const running = { instance, engine, context, host, admin: { username: "postgres", password: "x" } };
      await store.create(node("n1", "10.0.0.1"));
      const certificates = new InstanceCertificates({ store, paths, events: recorder, address: "10.0.0.1" });
      await assert.rejects(certificates.prepare(instance, context, host), /cannot serve TLS to clients: secret demo\/pg-tls does not exist/);
      assert.deepEqual(events, ["Warning CertificateRejected: not served, the instance does not start until the Secret is fixed: secret demo/pg-tls does not exist; create it with the keys ca.crt, tls.crt and tls.key"]);

      const secretData = async (names: string[], at = new Date()): Promise<Record<string, string>> => {
        const issued = await issueInstanceCertificate(userCa, "db", names, at);
        const data = { "ca.crt": issued.ca, "tls.crt": issued.cert, "tls.key": issued.key };
        return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString("base64")]));
      };
      const first = await secretData(["10.0.0.1"]);
      const secret = await store.create({ apiVersion: "v1", kind: "Secret", metadata: { name: "pg-tls", namespace: "demo" }, data: first });
      await certificates.prepare(instance, context, host);
      const files = instanceTlsFiles(context);
      assert.equal(await readFile(files.certificateFile, "utf8"), Buffer.from(first["tls.crt"] ?? "", "base64").toString());
      assert.equal(await readFile(files.caFile, "utf8"), `${Buffer.from(first["ca.crt"] ?? "", "base64").toString().trimEnd()}\n${await readFile(paths.tls.caCertificate, "utf8")}`);
      await certificates.refresh(running);
      await certificates.refresh(running);
      assert.equal(reloads, 1, "once after the start: what the server loaded is not known until then");

      // Rotated to a certificate that lacks a node which joined: not served, said once.
      await store.create(node("n2", "10.0.0.2"));
      const bad = await store.update({ ...secret, data: await secretData(["10.0.0.1"]) });
      const served = await readFile(files.certificateFile, "utf8");
      await certificates.refresh(running);
      await certificates.refresh(running);
      assert.equal(await readFile(files.certificateFile, "utf8"), served, "the server keeps its files");
      assert.equal(reloads, 1);
      assert.equal(events.filter((e) => e.startsWith("Warning CertificateRejected: not served, the server keeps its current certificate")).length, 1);
      assert.match(events.at(-1) ?? "", /tls\.crt does not name 10\.0\.0\.2 in its subjectAltName/);

      // A good one is placed and reloaded once.
      const good = await secretData(["10.0.0.1", "10.0.0.2"]);
      await store.update({ ...bad, data: good });
      await certificates.refresh(running);
      await certificates.refresh(running);
      assert.equal(await readFile(files.certificateFile, "utf8"), Buffer.from(good["tls.crt"] ?? "", "base64").toString());
      assert.equal(reloads, 2);
      assert.match(events.at(-1) ?? "", /^Normal CertificateRenewed: TLS certificate from secret pg-tls placed \(serial [0-9A-F]+\); reloaded without a restart$/);

      // One with 20 days left (825-day lifetime, issued 805 days ago) is served, with one Warning that Holdfast will not renew it.
      const endingData = await secretData(["10.0.0.1", "10.0.0.2"], new Date(Date.now() - 805 * 86_400_000));
      await store.update({ ...(await store.get<Secret>({ kind: "Secret", namespace: "demo", name: "pg-tls" })), data: endingData } as Secret);
      await certificates.refresh(running);
      await certificates.refresh(running);
      assert.equal(reloads, 3);
      assert.equal(events.filter((e) => e.startsWith("Warning CertificateExpiring: TLS certificate from secret pg-tls")).length, 1);
      assert.ok(!events.join("\n").includes("PRIVATE KEY"));
    } finally {
      store.close();
      await rm(home, { recursive: true, force: true });
    }
  });
});
