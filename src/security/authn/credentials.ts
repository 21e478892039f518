/**
 * Bearer credentials: session tokens `hfs_<id>_<secret>` and API tokens `hfat_<id>_<secret>_<crc32>`.
 *
 * The id is a public handle (audit records, listings, Identity.credentialId) used to find the row; the secret has
 * 256 bits from the CSPRNG and only its SHA-256 is stored. A fast hash is enough because the secret is random and
 * long: there is no dictionary to try, and a stolen database gives nothing to replay. The API token's CRC32 lets
 * secret scanners recognise a leaked token and lets us reject a mistyped one without a database lookup.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { crc32 } from "node:zlib";
import { base32Encode } from "./base32.ts";

/** Prefix of session tokens. */
export const SESSION_PREFIX = "hfs_";
/** Prefix of API tokens. */
export const API_TOKEN_PREFIX = "hfat_";

const ID_BYTES = 10;
const SECRET_BYTES = 32;
const ID = "[a-z2-7]{16}";
const SECRET = "[a-z2-7]{52}";
const SESSION_FORMAT = new RegExp(`^hfs_(${ID})_(${SECRET})$`);
const API_TOKEN_FORMAT = new RegExp(`^(hfat_(${ID})_(${SECRET}))_([0-9a-f]{8})$`);

/** A freshly minted credential: the full bearer string (shown once), its id, and the hash to store. */
export interface MintedCredential {
  id: string;
  bearer: string;
  secretHash: Buffer;
}

/** The id and secret a bearer string carries. */
export interface ParsedCredential {
  kind: "session" | "token";
  id: string;
  secret: string;
}

/** Mint a new session token. */
export function mintSessionToken(): MintedCredential {
  const id = randomText(ID_BYTES);
  const secret = randomText(SECRET_BYTES);
  return { id, bearer: `${SESSION_PREFIX}${id}_${secret}`, secretHash: hashSecret(secret) };
}

/** Mint a new API token. */
export function mintApiToken(): MintedCredential {
  const id = randomText(ID_BYTES);
  const secret = randomText(SECRET_BYTES);
  const body = `${API_TOKEN_PREFIX}${id}_${secret}`;
  return { id, bearer: `${body}_${checksum(body)}`, secretHash: hashSecret(secret) };
}

/** Parse a bearer string; undefined when it is neither shape or an API token's checksum does not match. */
export function parseBearer(bearer: string): ParsedCredential | undefined {
  const session = SESSION_FORMAT.exec(bearer);
  if (session?.[1] !== undefined && session[2] !== undefined) return { kind: "session", id: session[1], secret: session[2] };
  const token = API_TOKEN_FORMAT.exec(bearer);
  if (token?.[1] === undefined || token[2] === undefined || token[3] === undefined || token[4] === undefined) return undefined;
  if (checksum(token[1]) !== token[4]) return undefined;
  return { kind: "token", id: token[2], secret: token[3] };
}

/** Whether `bearer` is a well-formed API token with a matching checksum (no database needed): for typo detection and scanners. */
export function isWellFormedApiToken(bearer: string): boolean {
  return parseBearer(bearer)?.kind === "token";
}

/** SHA-256 of a credential secret, the only form stored. */
export function hashSecret(secret: string): Buffer {
  return createHash("sha256").update(secret, "utf8").digest();
}

/** Whether `secret` hashes to `storedHash`, compared in constant time. */
export function secretMatches(secret: string, storedHash: Uint8Array): boolean {
  const candidate = hashSecret(secret);
  return candidate.length === storedHash.length && timingSafeEqual(candidate, storedHash);
}

function randomText(bytes: number): string {
  return base32Encode(randomBytes(bytes), false).toLowerCase();
}

function checksum(body: string): string {
  return crc32(body).toString(16).padStart(8, "0");
}
