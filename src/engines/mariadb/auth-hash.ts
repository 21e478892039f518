/**
 * What MariaDB stores for a password, computed here so that only that (never the plaintext) reaches the server, its
 * binlog and the replicas: `ed25519` (the auth_ed25519 plugin: the Ed25519 public key whose secret is SHA-512 of the
 * password, base64 without padding) and `mysql_native_password` (`*` + hex SHA-1 of SHA-1, for the replication account
 * the server's own replication client logs in with).
 */
import { createHash } from "node:crypto";

const P = 2n ** 255n - 19n;

function mod(a: bigint): bigint {
  const r = a % P;
  return r >= 0n ? r : r + P;
}

function power(base: bigint, exponent: bigint): bigint {
  let result = 1n;
  let b = mod(base);
  for (let e = exponent; e > 0n; e >>= 1n) {
    if ((e & 1n) === 1n) result = mod(result * b);
    b = mod(b * b);
  }
  return result;
}

const D = mod(-121665n * power(121666n, P - 2n));

/** A point in extended coordinates (X, Y, Z, T), x = X/Z, y = Y/Z, xy = T/Z. */
type Point = readonly [bigint, bigint, bigint, bigint];

const BASE_X = 15112221349535400772501151409588531511454012693041857206046113283949847762202n;
const BASE_Y = 46316835694926478169428394003475163141307993866256225615783033603165251855960n;
const BASE: Point = [BASE_X, BASE_Y, 1n, mod(BASE_X * BASE_Y)];
const IDENTITY: Point = [0n, 1n, 1n, 0n];

/** Point addition on edwards25519 (a = -1), unified: it doubles too. */
function add(p: Point, q: Point): Point {
  const [x1, y1, z1, t1] = p;
  const [x2, y2, z2, t2] = q;
  const a = mod((y1 - x1) * (y2 - x2));
  const b = mod((y1 + x1) * (y2 + x2));
  const c = mod(t1 * 2n * D * t2);
  const d = mod(z1 * 2n * z2);
  const e = b - a;
  const f = d - c;
  const g = d + c;
  const h = b + a;
  return [mod(e * f), mod(g * h), mod(f * g), mod(e * h)];
}

function multiply(scalar: bigint, point: Point): Point {
  let result = IDENTITY;
  let addend = point;
  for (let s = scalar; s > 0n; s >>= 1n) {
    if ((s & 1n) === 1n) result = add(result, addend);
    addend = add(addend, addend);
  }
  return result;
}

function littleEndian(bytes: Uint8Array): bigint {
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i] ?? 0);
  return value;
}

/** The 32-byte Ed25519 public key of `seed` (any length: SHA-512 of it, clamped, times the base point) (pure). */
export function ed25519PublicKey(seed: Uint8Array): Buffer {
  const digest = createHash("sha512").update(seed).digest();
  const scalarBytes = Uint8Array.from(digest.subarray(0, 32));
  scalarBytes[0] = (scalarBytes[0] ?? 0) & 248;
  scalarBytes[31] = ((scalarBytes[31] ?? 0) & 127) | 64;
  const [x, y, z] = multiply(littleEndian(scalarBytes), BASE);
  const inverse = power(z, P - 2n);
  const affineX = mod(x * inverse);
  let affineY = mod(y * inverse);
  const out = Buffer.alloc(32);
  for (let i = 0; i < 32; i++) {
    out[i] = Number(affineY & 255n);
    affineY >>= 8n;
  }
  out[31] = (out[31] ?? 0) | (Number(affineX & 1n) << 7);
  return out;
}

/** The authentication string of `password` for `IDENTIFIED VIA ed25519 USING '…'` (pure). */
export function ed25519AuthString(password: string): string {
  return ed25519PublicKey(Buffer.from(password, "utf8")).toString("base64").replace(/=+$/u, "");
}

/** The authentication string of `password` for `IDENTIFIED VIA mysql_native_password USING '…'` (pure). */
export function nativePasswordAuthString(password: string): string {
  const once = createHash("sha1").update(password, "utf8").digest();
  return `*${createHash("sha1").update(once).digest("hex").toUpperCase()}`;
}
