/**
 * The API server's TLS material: a private CA made at init, and a serving certificate for the loopback
 * names signed by it. The CLI trusts only this CA, so it talks to this server and no other.
 */
// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata polyfill.
import "reflect-metadata";
import { createHash, webcrypto, randomBytes, X509Certificate, type webcrypto as WebCrypto } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile, chmod } from "node:fs/promises";
import { isIP } from "node:net";
import { homePaths, type HomePaths } from "../../config/index.ts";
import * as x509 from "@peculiar/x509";

/** Where the TLS files live (from the home layout in src/config). */
export type TlsPaths = HomePaths["tls"];

/** The TLS paths of a home. */
export function tlsPaths(home: string): TlsPaths {
  return homePaths(home).tls;
}

/** PEM material a TLS server needs. */
export interface ServingMaterial {
  cert: string;
  key: string;
  ca: string;
}

const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const DAY_MS = 86_400_000;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/**
 * Create the CA and the serving certificate (names: localhost, 127.0.0.1, ::1, and `extraNames`, e.g. the address a
 * control-plane node advertises). Overwrites nothing that exists.
 */
export async function createTlsMaterial(paths: TlsPaths, now: Date = new Date(), extraNames: readonly string[] = []): Promise<void> {
  await mkdir(paths.directory, { recursive: true, mode: 0o700 });
  const caKeys = await webcrypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: "CN=Holdfast CA",
    notBefore: new Date(now.getTime() - DAY_MS),
    notAfter: new Date(now.getTime() + 3650 * DAY_MS),
    keys: caKeys,
    signingAlgorithm: ALGORITHM,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
  });
  const serverKeys = await webcrypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]);
  const server = await signServingCertificate({ certificate: ca, key: caKeys.privateKey }, serverKeys.publicKey, extraNames, now);
  await writeSecretFile(paths.caKey, await privateKeyPem(caKeys.privateKey));
  await writeSecretFile(paths.serverKey, await privateKeyPem(serverKeys.privateKey));
  await writeFile(paths.caCertificate, ca.toString("pem"), { mode: 0o644, flag: "wx" });
  await writeFile(paths.serverCertificate, server, { mode: 0o644, flag: "wx" });
}

/** A CA able to sign: its certificate and private key. */
interface SigningCa {
  certificate: x509.X509Certificate;
  key: WebCrypto.CryptoKey;
}

/** The subject alternative names of a serving certificate: loopback always, plus `extraNames` (IP addresses or DNS names). */
export function servingNames(extraNames: readonly string[]): x509.JsonGeneralName[] {
  const names: x509.JsonGeneralName[] = [
    { type: "dns", value: "localhost" },
    { type: "ip", value: "127.0.0.1" },
    { type: "ip", value: "::1" },
  ];
  for (const name of extraNames) {
    const type = isIP(name) === 0 ? "dns" : "ip";
    if (!names.some((known) => known.type === type && known.value === name)) names.push({ type, value: name });
  }
  return names;
}

async function signServingCertificate(ca: SigningCa, publicKey: WebCrypto.CryptoKey, extraNames: readonly string[], now: Date, subject = "CN=holdfast-api"): Promise<string> {
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject,
    issuer: ca.certificate.subject,
    notBefore: new Date(now.getTime() - DAY_MS),
    notAfter: new Date(now.getTime() + 825 * DAY_MS),
    publicKey,
    signingKey: ca.key,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
      new x509.SubjectAlternativeNameExtension(servingNames(extraNames)),
    ],
  });
  return certificate.toString("pem");
}

/** Read the serving material; the server refuses to start without it (run `holdfast init`). */
export async function readServingMaterial(paths: TlsPaths): Promise<ServingMaterial> {
  const [cert, key, ca] = await Promise.all([readFile(paths.serverCertificate, "utf8"), readFile(paths.serverKey, "utf8"), readFile(paths.caCertificate, "utf8")]);
  return { cert, key, ca };
}

async function privateKeyPem(key: WebCrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", key));
  const body = der.toString("base64").replace(/(.{64})/g, "$1\n").replace(/\n$/, "");
  return `-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----\n`;
}

async function writeSecretFile(path: string, content: string): Promise<void> {
  await writeFile(path, content, { mode: 0o600, flag: "wx" });
  await chmod(path, 0o600);
}

function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString("hex");
}

/** `sha256:HEX` of a CA certificate's SubjectPublicKeyInfo (kubeadm's --discovery-token-ca-cert-hash). */
export function caCertificateHash(caPem: string): string {
  const spki = new X509Certificate(caPem).publicKey.export({ type: "spki", format: "der" });
  return `sha256:${createHash("sha256").update(spki).digest("hex")}`;
}

/** A new node's key pair and a certificate signing request for it (the key never leaves the node). */
export async function createNodeKeyAndCsr(nodeName: string): Promise<{ keyPem: string; csrPem: string }> {
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=${nodeName.replace(/[^a-z0-9.-]/g, "")}`, keys, signingAlgorithm: ALGORITHM });
  return { keyPem: await privateKeyPem(keys.privateKey), csrPem: csr.toString("pem") };
}

/**
 * Sign a serving certificate for the key of `csrPem` (its self-signature checked) with the home's CA, valid for the
 * loopback names and `names`. Throws when the CSR is not signed by its own key.
 */
export async function issueServingCertificate(paths: TlsPaths, csrPem: string, names: readonly string[], now: Date = new Date()): Promise<string> {
  const csr = new x509.Pkcs10CertificateRequest(csrPem);
  if (!(await csr.verify())) throw new Error("the certificate signing request is not signed by the key it names");
  const [caPem, caKeyPem] = await Promise.all([readFile(paths.caCertificate, "utf8"), readFile(paths.caKey, "utf8")]);
  const key = await webcrypto.subtle.importKey("pkcs8", pemBody(caKeyPem), ALGORITHM, false, ["sign"]);
  const publicKey = await webcrypto.subtle.importKey("spki", csr.publicKey.rawData, ALGORITHM, true, ["verify"]);
  return signServingCertificate({ certificate: new x509.X509Certificate(caPem), key }, publicKey, names, now);
}

/** A database instance's serving material: its own key, a certificate for `names` (and loopback), and the CA. */
export interface InstanceServingMaterial extends ServingMaterial {
  /** When the certificate stops being valid. */
  notAfter: Date;
}

/** Can this home sign certificates (does it hold the CA key)? Only the first node of a cluster of nodes does. */
export function canIssueCertificates(paths: TlsPaths): boolean {
  return existsSync(paths.caKey);
}

/**
 * A new key and a serving certificate signed by the home's CA for a database instance, valid for the loopback names
 * and `names` (its node's address and its own name), with the instance's name as the subject's common name.
 */
export async function issueInstanceCertificate(paths: TlsPaths, instanceName: string, names: readonly string[], now: Date = new Date()): Promise<InstanceServingMaterial> {
  const [caPem, caKeyPem] = await Promise.all([readFile(paths.caCertificate, "utf8"), readFile(paths.caKey, "utf8")]);
  const caKey = await webcrypto.subtle.importKey("pkcs8", pemBody(caKeyPem), ALGORITHM, false, ["sign"]);
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]);
  const subject = `CN=${instanceName.replace(/[^a-z0-9.-]/g, "")}`;
  const cert = await signServingCertificate({ certificate: new x509.X509Certificate(caPem), key: caKey }, keys.publicKey, names, now, subject);
  return { cert, key: await privateKeyPem(keys.privateKey), ca: caPem, notAfter: new X509Certificate(cert).validToDate };
}

/** Does `certificatePem` name every one of `names` and stay valid for `marginMs` more (else it is renewed)? */
export function certificateCovers(certificatePem: string, names: readonly string[], now: Date, marginMs: number): boolean {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(certificatePem);
  } catch {
    return false;
  }
  if (certificate.validToDate.getTime() - now.getTime() < marginMs) return false;
  return names.every((name) => (isIP(name) === 0 ? certificate.checkHost(name) !== undefined : certificate.checkIP(name) !== undefined));
}

function pemBody(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, ""), "base64");
}

/** Write a joined node's TLS material: the cluster CA (no key), and its own serving pair (key 0600). */
export async function writeJoinedTlsMaterial(paths: TlsPaths, material: ServingMaterial & { caKey: string }): Promise<void> {
  await mkdir(paths.directory, { recursive: true, mode: 0o700 });
  await writeSecretFile(paths.serverKey, material.key);
  await writeSecretFile(paths.caKey, material.caKey);
  await writeFile(paths.caCertificate, material.ca, { mode: 0o644, flag: "wx" });
  await writeFile(paths.serverCertificate, material.cert, { mode: 0o644, flag: "wx" });
}
