import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { caCertificateHash, createNodeKeyAndCsr, createTlsMaterial, issueServingCertificate, tlsPaths } from "./certificates.ts";

async function withCa(body: (home: string) => Promise<void>): Promise<void> {
  const home = await mkdtemp(join(tmpdir(), "hf-node-tls-"));
  try {
    await body(home);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

test("the CA hash is sha256 of the CA's SubjectPublicKeyInfo, as kubeadm's --discovery-token-ca-cert-hash", () =>
  withCa(async (home) => {
    await createTlsMaterial(tlsPaths(home));
    const pem = await readFile(tlsPaths(home).caCertificate, "utf8");
    const spki = new X509Certificate(pem).publicKey.export({ type: "spki", format: "der" });
    assert.equal(caCertificateHash(pem), `sha256:${createHash("sha256").update(spki).digest("hex")}`);
    const other = await mkdtemp(join(tmpdir(), "hf-node-tls-other-"));
    await createTlsMaterial(tlsPaths(other));
    assert.notEqual(caCertificateHash(await readFile(tlsPaths(other).caCertificate, "utf8")), caCertificateHash(pem));
    await rm(other, { recursive: true, force: true });
  }));

test("the first node's certificate names its advertised address; a node's certificate is issued for its own key", () =>
  withCa(async (home) => {
    const paths = tlsPaths(home);
    await createTlsMaterial(paths, new Date(), ["10.0.0.1"]);
    assert.match(new X509Certificate(await readFile(paths.serverCertificate, "utf8")).subjectAltName ?? "", /IP Address:10\.0\.0\.1/);
    const { keyPem, csrPem } = await createNodeKeyAndCsr("cp2");
    const issued = new X509Certificate(await issueServingCertificate(paths, csrPem, ["10.0.0.2", "cp2.example"]));
    const ca = new X509Certificate(await readFile(paths.caCertificate, "utf8"));
    assert.ok(issued.verify(ca.publicKey), "signed by the cluster CA");
    assert.ok(issued.checkPrivateKey((await import("node:crypto")).createPrivateKey(keyPem)), "for the node's own key");
    assert.match(issued.subjectAltName ?? "", /IP Address:10\.0\.0\.2/);
    assert.match(issued.subjectAltName ?? "", /DNS:cp2\.example/);
    assert.match(issued.subjectAltName ?? "", /IP Address:127\.0\.0\.1/);
    assert.equal(issued.ca, false);
  }));

test("a request whose signature does not match its key is refused", () =>
  withCa(async (home) => {
    await createTlsMaterial(tlsPaths(home));
    const { csrPem } = await createNodeKeyAndCsr("cp2");
    const der = Buffer.from(csrPem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, ""), "base64");
    der[der.length - 5] = (der[der.length - 5] ?? 0) ^ 0xff;
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString("base64")}\n-----END CERTIFICATE REQUEST-----\n`;
    await assert.rejects(issueServingCertificate(tlsPaths(home), tampered, ["10.0.0.2"]));
  }));
