/**
 * The API server's TLS material: a private CA made at init, and a serving certificate for the loopback
 * names signed by it. The CLI trusts only this CA, so it talks to this server and no other.
 */
// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata polyfill.
import "reflect-metadata";
import { webcrypto, randomBytes, type webcrypto as WebCrypto } from "node:crypto";
import { mkdir, readFile, writeFile, chmod } from "node:fs/promises";
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

/** Create the CA and the serving certificate (names: localhost, 127.0.0.1, ::1). Overwrites nothing that exists. */
export async function createTlsMaterial(paths: TlsPaths, now: Date = new Date()): Promise<void> {
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
  const server = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: "CN=holdfast-api",
    issuer: ca.subject,
    notBefore: new Date(now.getTime() - DAY_MS),
    notAfter: new Date(now.getTime() + 825 * DAY_MS),
    publicKey: serverKeys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
      new x509.SubjectAlternativeNameExtension([
        { type: "dns", value: "localhost" },
        { type: "ip", value: "127.0.0.1" },
        { type: "ip", value: "::1" },
      ]),
    ],
  });
  await writeSecretFile(paths.caKey, await privateKeyPem(caKeys.privateKey));
  await writeSecretFile(paths.serverKey, await privateKeyPem(serverKeys.privateKey));
  await writeFile(paths.caCertificate, ca.toString("pem"), { mode: 0o644, flag: "wx" });
  await writeFile(paths.serverCertificate, server.toString("pem"), { mode: 0o644, flag: "wx" });
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
