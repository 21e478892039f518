/**
 * The members of a tar archive as a restore may write them: a ustar header parsed, and its name checked so that no
 * member can land outside the directory it is unpacked into (absolute names, `..`, a path through a symbolic link,
 * a link pointing out, hard links, device files are all refused, naming the member).
 */
import { posix } from "node:path";
import { InvalidError } from "../errors/index.ts";

/** Size of a tar block: headers are one block, data is padded to whole blocks. */
export const TAR_BLOCK = 512;

/** One member of the archive, its name a checked path relative to the directory (never empty, never `..`). */
export interface TarMember {
  path: string;
  type: "file" | "directory" | "symlink";
  /** Data bytes that follow the header (0 unless a file). */
  size: number;
  /** Permission bits from the header. */
  mode: number;
  /** A symlink's target (checked to stay inside); empty otherwise. */
  linkTarget: string;
}

/** The archive holds a member a restore refuses to write, or is not a tar it can read. */
export class UnsafeArchiveError extends InvalidError {}

const NAME = [0, 100] as const;
const MODE = [100, 8] as const;
const SIZE = [124, 12] as const;
const CHECKSUM = [148, 8] as const;
const TYPE = 156;
const LINK = [157, 100] as const;
const MAGIC = [257, 5] as const;
const PREFIX = [345, 155] as const;

function text(header: Buffer, [offset, length]: readonly [number, number]): string {
  const field = header.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return field.toString("utf8", 0, end === -1 ? field.length : end);
}

function octal(header: Buffer, field: readonly [number, number], what: string, at: number): number {
  if (((header[field[0]] ?? 0) & 0x80) !== 0) throw new UnsafeArchiveError(`the tar header at byte ${at} has a base-256 ${what}, which a restore does not read`);
  const digits = text(header, field).trim();
  if (!/^[0-7]+$/.test(digits)) throw new UnsafeArchiveError(`the tar header at byte ${at} has no octal ${what}`);
  return Number.parseInt(digits, 8);
}

function checksumOf(header: Buffer): number {
  let sum = 0;
  for (let index = 0; index < TAR_BLOCK; index++) sum += index >= CHECKSUM[0] && index < CHECKSUM[0] + CHECKSUM[1] ? 0x20 : (header[index] ?? 0);
  return sum;
}

/**
 * The member a 512-byte header announces, or "end" at the archive's end (a block of zeros). `at` (the header's
 * offset in the stream) only names it in errors.
 */
export function parseTarHeader(header: Buffer, at: number): TarMember | "end" {
  if (header.every((byte) => byte === 0)) return "end";
  if (octal(header, CHECKSUM, "checksum", at) !== checksumOf(header)) throw new UnsafeArchiveError(`the tar header at byte ${at} fails its checksum: the stream is not a tar or is damaged`);
  const prefix = text(header, MAGIC) === "ustar" ? text(header, PREFIX) : "";
  const name = prefix === "" ? text(header, NAME) : `${prefix}/${text(header, NAME)}`;
  const type = memberType(String.fromCharCode(header[TYPE] ?? 0), name);
  const path = memberPath(name);
  const size = type === "file" ? octal(header, SIZE, "size", at) : 0;
  const linkTarget = type === "symlink" ? text(header, LINK) : "";
  if (type === "symlink") checkLinkTarget(path, linkTarget);
  return { path, type, size, mode: octal(header, MODE, "mode", at), linkTarget };
}

function memberType(flag: string, name: string): TarMember["type"] {
  if (flag === "0" || flag === "\0" || flag === "7") return "file";
  if (flag === "5") return "directory";
  if (flag === "2") return "symlink";
  if (flag === "1") throw new UnsafeArchiveError(`member "${name}" is a hard link, which a restore refuses`);
  throw new UnsafeArchiveError(`member "${name}" has tar type "${flag}" (not a file, directory or symbolic link), which a restore refuses`);
}

/**
 * A member's name as a path relative to the directory: `./` and trailing slashes dropped. Absolute names, `..`
 * components and NUL are refused; "" is the directory itself.
 */
export function memberPath(name: string): string {
  if (name.startsWith("/")) throw new UnsafeArchiveError(`member "${name}" has an absolute name, which a restore refuses`);
  const parts = name.split("/").filter((part) => part !== "" && part !== ".");
  if (parts.includes("..")) throw new UnsafeArchiveError(`member "${name}" has a ".." in its name, which a restore refuses`);
  return parts.join("/");
}

/** A symbolic link must be relative and resolve inside the directory. */
function checkLinkTarget(path: string, target: string): void {
  const resolved = posix.normalize(posix.join(posix.dirname(path), target));
  if (target === "" || target.startsWith("/") || resolved === ".." || resolved.startsWith("../")) {
    throw new UnsafeArchiveError(`member "${path}" is a symbolic link to "${target}", outside the directory it is restored into; a restore refuses it`);
  }
}

/** Tracks the symbolic links written so far: no later member may be written through one. */
export class LinkGuard {
  readonly #links = new Set<string>();

  /** Throws when a directory on `path`'s way (or `path` itself) is a link this archive made; records `member` when it is a link. */
  admit(member: TarMember): void {
    const parts = member.path.split("/");
    for (let length = 1; length <= parts.length; length++) {
      const prefix = parts.slice(0, length).join("/");
      if (this.#links.has(prefix)) throw new UnsafeArchiveError(`member "${member.path}" would be written through the symbolic link "${prefix}" of the same archive; a restore refuses it`);
    }
    if (member.type === "symlink") this.#links.add(member.path);
  }
}
