import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PeerCertificate } from "node:tls";
import type { Node } from "../api/index.ts";
import { listenAddresses, peerServer, userCertificateNames, verifyingTlsOptions } from "./address.ts";

function node(name: string, addresses: Record<string, string>): Node {
  return { apiVersion: "holdfast.io/v1alpha1", kind: "Node", metadata: { name }, status: { addresses: Object.entries(addresses).map(([type, address]) => ({ type, address })) } } as Node;
}

describe("userCertificateNames", () => {
  it("is loopback, the instance's address, then every node's database and external address, once each", () => {
    const nodes = [node("b", { Advertise: "10.0.0.2", ExternalIP: "192.0.2.7" }), node("a", { Advertise: "10.0.0.1" }), node("laptop", { Advertise: "localhost" })];
    assert.deepEqual(userCertificateNames(nodes, "10.0.0.1"), ["127.0.0.1", "10.0.0.1", "10.0.0.2", "192.0.2.7"]);
    assert.deepEqual(userCertificateNames([]), ["127.0.0.1"]);
  });
});

describe("listenAddresses", () => {
  it("is loopback alone by default, loopback and the node's address otherwise", () => {
    assert.deepEqual(listenAddresses({}), ["127.0.0.1"]);
    assert.deepEqual(listenAddresses({ address: "127.0.0.1" }), ["127.0.0.1"]);
    assert.deepEqual(listenAddresses({ address: "10.0.0.2" }), ["127.0.0.1", "10.0.0.2"]);
  });
});

describe("peerServer", () => {
  it("reaches the upstream's address with the instance's CA file, or without TLS when it has none", () => {
    const tls = { certificateFile: "/i/tls/server.crt", keyFile: "/i/tls/server.key", caFile: "/i/tls/ca.crt" };
    assert.deepEqual(peerServer({ tls }, { host: "10.0.0.3", port: 5432 }), { host: "10.0.0.3", port: 5432, caFile: "/i/tls/ca.crt" });
    assert.deepEqual(peerServer({}, { host: "127.0.0.1", port: 5432 }), { host: "127.0.0.1", port: 5432, caFile: undefined });
  });
});

describe("verifyingTlsOptions", () => {
  it("trusts only the CA file and checks the certificate against the address connected to, not a default name", async () => {
    const directory = await mkdtemp(join(tmpdir(), "hf-address-"));
    try {
      await writeFile(join(directory, "ca.crt"), "CA PEM");
      const options = await verifyingTlsOptions("10.0.0.2", join(directory, "ca.crt"));
      assert.equal(options.ca, "CA PEM");
      assert.equal(options.rejectUnauthorized, true);
      const certificate = (altNames: string) => ({ subject: { CN: "pg-0" }, subjectaltname: altNames }) as unknown as PeerCertificate;
      assert.equal(options.checkServerIdentity?.("localhost", certificate("IP Address:10.0.0.2, DNS:localhost")), undefined);
      assert.ok(options.checkServerIdentity?.("localhost", certificate("IP Address:10.0.0.3, DNS:localhost")) instanceof Error, "another address's certificate is refused even though it names localhost");
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
