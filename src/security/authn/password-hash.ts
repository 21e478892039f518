/** Password hashing: argon2id in PHC string format (`$argon2id$v=19$m=…,t=…,p=…$<salt>$<hash>`). */
import { argon2, randomBytes, timingSafeEqual } from "node:crypto";
import { InternalError } from "../../errors/index.ts";

/** Argon2id cost parameters. */
export interface Argon2Parameters {
  /** Memory in KiB. */
  memoryKiB: number;
  /** Passes over memory (time cost). */
  passes: number;
  parallelism: number;
}

/** OWASP Password Storage Cheat Sheet minimum for argon2id: 19 MiB, 2 passes, 1 lane. */
export const OWASP_ARGON2: Readonly<Argon2Parameters> = Object.freeze({ memoryKiB: 19456, passes: 2, parallelism: 1 });

const ALGORITHM = "argon2id";
const VERSION = 19;
const SALT_BYTES = 16;
const TAG_BYTES = 32;
// Bounds on what a stored hash may ask for, so a corrupted row cannot make a login allocate gigabytes.
const MAX_MEMORY_KIB = 4 * 1024 * 1024;
const MAX_PASSES = 64;
const MAX_PARALLELISM = 64;

/** A parsed PHC string. */
export interface PasswordHash extends Argon2Parameters {
  algorithm: "argon2d" | "argon2i" | "argon2id";
  version: number;
  salt: Buffer;
  hash: Buffer;
}

/** Hash `password` with a fresh 16-byte salt; returns the PHC string. */
export async function hashPassword(password: string, parameters: Argon2Parameters): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive({ algorithm: ALGORITHM, version: VERSION, ...parameters, salt, hash: Buffer.alloc(TAG_BYTES) }, password);
  return formatPasswordHash({ algorithm: ALGORITHM, version: VERSION, ...parameters, salt, hash });
}

/** Whether `password` matches the PHC string `stored`, compared in constant time. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parsePasswordHash(stored);
  const candidate = await derive(parsed, password);
  return candidate.length === parsed.hash.length && timingSafeEqual(candidate, parsed.hash);
}

/** Whether `stored` was made with a weaker algorithm, version, parameters, salt or tag than `policy` asks for now. */
export function needsRehash(stored: string, policy: Argon2Parameters): boolean {
  const parsed = parsePasswordHash(stored);
  return (
    parsed.algorithm !== ALGORITHM ||
    parsed.version !== VERSION ||
    parsed.memoryKiB < policy.memoryKiB ||
    parsed.passes < policy.passes ||
    parsed.salt.length < SALT_BYTES ||
    parsed.hash.length < TAG_BYTES
  );
}

/** The PHC string of a hash: standard base64 without padding, as the reference implementation writes it. */
export function formatPasswordHash(value: PasswordHash): string {
  const salt = value.salt.toString("base64").replace(/=+$/, "");
  const hash = value.hash.toString("base64").replace(/=+$/, "");
  return `$${value.algorithm}$v=${value.version}$m=${value.memoryKiB},t=${value.passes},p=${value.parallelism}$${salt}$${hash}`;
}

const PHC = /^\$(argon2id|argon2i|argon2d)\$v=(\d+)\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

/** Parse a PHC string; a malformed one is an internal error (the row is damaged), never a login failure. */
export function parsePasswordHash(stored: string): PasswordHash {
  const match = PHC.exec(stored);
  if (match === null) throw new InternalError("a stored password hash is malformed; set the user's password again");
  const [, algorithm = "", version = "", memory = "", passes = "", parallelism = "", salt = "", hash = ""] = match;
  const parsed: PasswordHash = {
    algorithm: algorithm === "argon2d" || algorithm === "argon2i" ? algorithm : "argon2id",
    version: Number(version),
    memoryKiB: Number(memory),
    passes: Number(passes),
    parallelism: Number(parallelism),
    salt: Buffer.from(salt, "base64"),
    hash: Buffer.from(hash, "base64"),
  };
  if (!withinBounds(parsed)) throw new InternalError("a stored password hash has out-of-range parameters; set the user's password again");
  return parsed;
}

function withinBounds(value: PasswordHash): boolean {
  return (
    value.memoryKiB >= 8 * value.parallelism &&
    value.memoryKiB <= MAX_MEMORY_KIB &&
    value.passes >= 1 &&
    value.passes <= MAX_PASSES &&
    value.parallelism >= 1 &&
    value.parallelism <= MAX_PARALLELISM &&
    value.salt.length >= 8 &&
    value.hash.length >= 4
  );
}

function derive(value: PasswordHash, password: string): Promise<Buffer> {
  if (value.version !== VERSION) return Promise.reject(new InternalError("a stored password hash uses an unsupported argon2 version; set the user's password again"));
  const parameters = {
    message: Buffer.from(password, "utf8"),
    nonce: value.salt,
    parallelism: value.parallelism,
    tagLength: value.hash.length,
    memory: value.memoryKiB,
    passes: value.passes,
  };
  return new Promise((resolve, reject) => {
    argon2(value.algorithm, parameters, (error, key) => (error === null ? resolve(key) : reject(new InternalError("password hashing failed", { cause: error }))));
  });
}
