/** The audit keys: an Ed25519 signing key for checkpoints and an HMAC key for redaction, each a 0600 file. */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from "node:crypto";
import { mkdir, readFile, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { UnavailableError } from "../../errors/index.ts";
import { isErrorCode, writeFileAtomically } from "./files.ts";

/** The keys an AuditLog writes with. */
export interface AuditKeys {
  signingKey: KeyObject;
  publicKey: KeyObject;
  keyId: string;
  hmacKey: Buffer;
}

const HMAC_KEY_BYTES = 32;

/** Load both keys, creating each on first use. */
export async function loadOrCreateAuditKeys(signingKeyFile: string, hmacKeyFile: string): Promise<AuditKeys> {
  const signingKey = createPrivateKey(await loadOrCreate(signingKeyFile, newSigningKeyPem));
  if (signingKey.asymmetricKeyType !== "ed25519") {
    throw new UnavailableError(`the audit signing key ${signingKeyFile} is not an Ed25519 key; restore it from a backup`);
  }
  const hmacKey = await loadOrCreate(hmacKeyFile, () => randomBytes(HMAC_KEY_BYTES));
  if (hmacKey.length !== HMAC_KEY_BYTES) {
    throw new UnavailableError(`the audit HMAC key ${hmacKeyFile} is not ${HMAC_KEY_BYTES} bytes; restore it from a backup`);
  }
  const publicKey = createPublicKey(signingKey);
  await ensurePublicKeyFile(auditPublicKeyFile(signingKeyFile), publicKey);
  return { signingKey, publicKey, keyId: keyIdOf(publicKey), hmacKey };
}

/** The public key to verify with, from a public or a private key PEM file. */
export async function loadVerificationKey(publicKeyFile: string): Promise<KeyObject> {
  const pem = await readFile(publicKeyFile, "utf8").catch((error: unknown) => {
    throw new UnavailableError(`cannot read the audit public key ${publicKeyFile}; pass the file written next to the signing key`, { cause: error });
  });
  try {
    return createPublicKey(pem);
  } catch (error) {
    throw new UnavailableError(`${publicKeyFile} is not a PEM public key`, { cause: error });
  }
}

/** The public key file written next to a signing key file. */
export function auditPublicKeyFile(signingKeyFile: string): string {
  return `${signingKeyFile}.pub`;
}

/** A short stable id of a public key: 16 hex digits of the SHA-256 of its SPKI DER. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash("sha256").update(publicKey.export({ type: "spki", format: "der" })).digest("hex").slice(0, 16);
}

function newSigningKeyPem(): Buffer {
  const { privateKey } = generateKeyPairSync("ed25519");
  return Buffer.from(privateKey.export({ type: "pkcs8", format: "pem" }));
}

async function loadOrCreate(path: string, create: () => Buffer): Promise<Buffer> {
  const existing = await readPrivateFile(path);
  if (existing !== undefined) return existing;
  const fresh = create();
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  try {
    await writeFileAtomically(path, fresh, { mode: 0o600, exclusive: true });
  } catch (error) {
    // Two first starts at once: keep the one that won, so both sign with the same key.
    if (isErrorCode(error, "EEXIST")) return loadOrCreate(path, create);
    throw new UnavailableError(`cannot create the audit key ${path}; check that its directory is writable`, { cause: error });
  }
  return fresh;
}

/** Verifiers need only the public key; it is written beside the private one (and rewritten if lost). */
async function ensurePublicKeyFile(path: string, publicKey: KeyObject): Promise<void> {
  const exists = await stat(path).then(
    () => true,
    () => false,
  );
  if (exists) return;
  const pem = publicKey.export({ type: "spki", format: "pem" });
  await writeFileAtomically(path, Buffer.from(pem), { mode: 0o644, exclusive: false });
}

async function readPrivateFile(path: string): Promise<Buffer | undefined> {
  const info = await stat(path).catch((error: unknown) => {
    if (isErrorCode(error, "ENOENT")) return undefined;
    throw new UnavailableError(`cannot read the audit key ${path}`, { cause: error });
  });
  if (info === undefined) return undefined;
  if ((info.mode & 0o077) !== 0) {
    throw new UnavailableError(`the audit key ${path} is readable by others (mode ${(info.mode & 0o777).toString(8)}); run \`chmod 600 ${path}\` and start again`);
  }
  return readFile(path);
}
