/**
 * Checks of a serving certificate the user brings (a `UserProvided` issuer's Secret, ADR 0042 "Since"): a chain to
 * the user's CA, a key that belongs to it, time left, and names covering every address clients and the node agent
 * dial. Pure; problems name the Secret's keys and what is wrong, never a byte of the key.
 */
import { createPrivateKey, createPublicKey, X509Certificate } from "node:crypto";
import { isIP } from "node:net";
import { userTlsMaterialOf, type Secret, type UserProvidedTls } from "../../api/index.ts";

/** A Secret's PEM texts: the CA bundle, the serving certificate (then any intermediates), its private key. */
export interface UserTlsMaterial {
  ca: string;
  cert: string;
  key: string;
}

/** The Secret's key names of each part, for the messages (KubeBlocks' defaults: ca.crt, tls.crt, tls.key). */
export type UserTlsKeys = UserTlsMaterial;

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
/** A chain longer than this is refused rather than walked. */
const MAX_CHAIN = 8;

/** Every certificate of a PEM bundle, in order; undefined when one block does not parse. */
export function pemCertificates(pem: string): X509Certificate[] | undefined {
  try {
    return (pem.match(PEM_CERTIFICATE) ?? []).map((block) => new X509Certificate(block));
  } catch {
    return undefined;
  }
}

/** Why `material` cannot be served to clients dialling `names` at `now` (empty when it can). */
export function userCertificateProblems(material: UserTlsMaterial, keys: UserTlsKeys, names: readonly string[], now: Date): string[] {
  const chain = pemCertificates(material.cert);
  const cas = pemCertificates(material.ca);
  const leaf = chain?.[0];
  if (leaf === undefined) return [`${keys.cert} holds no PEM certificate that parses`];
  if (cas === undefined || cas.length === 0) return [`${keys.ca} holds no PEM CA certificate that parses`];
  return [
    ...keyProblems(leaf, material.key, keys),
    ...chainProblems(chain ?? [], cas, keys),
    ...validityProblems(leaf, keys.cert, now),
    ...nameProblems(leaf, names, keys.cert),
  ];
}

/** The key parses and is the certificate's: their public keys are the same. */
function keyProblems(leaf: X509Certificate, keyPem: string, keys: UserTlsKeys): string[] {
  let publicKey: Buffer;
  try {
    publicKey = createPublicKey(createPrivateKey(keyPem)).export({ type: "spki", format: "der" });
  } catch {
    return [`${keys.key} holds no unencrypted PEM private key that parses`];
  }
  const certified = leaf.publicKey.export({ type: "spki", format: "der" });
  return publicKey.equals(certified) ? [] : [`${keys.key} is not the private key of ${keys.cert} (their public keys differ)`];
}

/** The serving certificate leads, through the intermediates after it, to a certificate of the CA bundle. */
function chainProblems(chain: readonly X509Certificate[], cas: readonly X509Certificate[], keys: UserTlsKeys): string[] {
  const intermediates = chain.slice(1);
  let current = chain[0];
  for (let depth = 0; current !== undefined && depth < MAX_CHAIN; depth++) {
    const subject = current;
    if (cas.some((ca) => signedBy(subject, ca))) return [];
    current = intermediates.find((c) => c !== subject && signedBy(subject, c));
  }
  return [`${keys.cert} is not signed by a CA of ${keys.ca} (nor through the intermediates after it in ${keys.cert}): clients verifying with ${keys.ca} would refuse it`];
}

function signedBy(subject: X509Certificate, issuer: X509Certificate): boolean {
  return subject.checkIssued(issuer) && subject.verify(issuer.publicKey);
}

function validityProblems(leaf: X509Certificate, certKey: string, now: Date): string[] {
  if (leaf.validToDate.getTime() <= now.getTime()) return [`${certKey} expired on ${leaf.validToDate.toISOString()}; put a current certificate in the Secret`];
  if (leaf.validFromDate.getTime() > now.getTime()) return [`${certKey} is not valid before ${leaf.validFromDate.toISOString()}`];
  return [];
}

/** The addresses and names the certificate's subjectAltName lacks. */
export function missingNames(leaf: X509Certificate, names: readonly string[]): string[] {
  return names.filter((name) => (isIP(name) === 0 ? leaf.checkHost(name) : leaf.checkIP(name)) === undefined);
}

function nameProblems(leaf: X509Certificate, names: readonly string[], certKey: string): string[] {
  const missing = missingNames(leaf, names);
  if (missing.length === 0) return [];
  return [`${certKey} does not name ${missing.join(", ")} in its subjectAltName; clients (verify-full) and the node agent connect to these addresses: add them as IP SANs`];
}

/** The contents of an instance's three TLS files. */
export interface TlsFileContents {
  cert: string;
  key: string;
  ca: string;
}

/** What a user's Secret gives an instance: the files to serve, or why it cannot be served. */
export type UserTlsOutcome = { files: TlsFileContents } | { problems: string[] };

/** Where a user's Secret is checked: its namespace, the names its certificate must carry, and when. */
export interface UserTlsCheck {
  namespace: string;
  names: readonly string[];
  now: Date;
}

/** The PEM texts of a `UserProvided` Secret (`stored`, undefined when it does not exist) when it can be served to `check.names`, else its problems (pure). */
export function checkUserTlsSecret(stored: Secret | undefined, tls: UserProvidedTls, check: UserTlsCheck): { material: UserTlsMaterial } | { problems: string[] } {
  const id = `secret ${check.namespace}/${tls.secretName}`;
  if (stored === undefined) return { problems: [`${id} does not exist; create it with the keys ${tls.ca}, ${tls.cert} and ${tls.key}`] };
  const read = userTlsMaterialOf(stored, tls);
  if ("missing" in read) return { problems: [`${id} has no key ${read.missing.join(", ")}`] };
  const problems = userCertificateProblems(read.material, tls, check.names, check.now);
  return problems.length > 0 ? { problems: problems.map((p) => `${id}: ${p}`) } : read;
}

/**
 * The files an instance serves from `secret` (pure): its certificate and key as they are; as CA, the Secret's CA
 * bundle then the cluster CA (`clusterCa`), so peers still on the cluster CA's certificates during a change of
 * issuer are trusted too. Problems name the Secret and its keys, never their contents.
 */
export function userTlsFiles(secret: Secret | undefined, tls: UserProvidedTls, check: UserTlsCheck & { clusterCa: string }): UserTlsOutcome {
  const checked = checkUserTlsSecret(secret, tls, check);
  if ("problems" in checked) return checked;
  const { ca, cert, key } = checked.material;
  return { files: { cert, key, ca: `${withNewline(ca)}${check.clusterCa}` } };
}

function withNewline(text: string): string {
  return text.endsWith("\n") ? text : `${text}\n`;
}
