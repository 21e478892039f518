/**
 * ustar archive pieces, as pg_basebackup writes them: a 512-byte header per member, the data padded to 512 bytes,
 * two zero blocks at the end. Names longer than 100 bytes use the ustar prefix field.
 */
import { InvalidError } from "../../errors/index.ts";

export const TAR_BLOCK = 512;
const MAX_OCTAL_ID = 0o7777777;

/** One member's header fields. */
export interface TarMember {
  /** Path inside the archive, without a leading slash; a directory's ends with a slash. */
  name: string;
  type: "file" | "directory" | "symlink";
  /** Data bytes (files only). */
  size: number;
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch. */
  mtime: number;
  linkTarget?: string;
}

const TYPE_FLAG = { file: "0", directory: "5", symlink: "2" } as const;

/** The 512-byte header of `member`. */
export function tarHeader(member: TarMember): Buffer {
  const header = Buffer.alloc(TAR_BLOCK);
  const { name, prefix } = splitName(member.name);
  header.write(name, 0, 100, "utf8");
  octal(header, 100, 8, member.mode & 0o7777);
  octal(header, 108, 8, member.uid <= MAX_OCTAL_ID ? member.uid : 0);
  octal(header, 116, 8, member.gid <= MAX_OCTAL_ID ? member.gid : 0);
  octal(header, 124, 12, member.type === "file" ? member.size : 0);
  octal(header, 136, 12, Math.max(0, Math.floor(member.mtime)));
  header.write(TYPE_FLAG[member.type], 156, 1, "latin1");
  if (member.linkTarget !== undefined) {
    if (Buffer.byteLength(member.linkTarget) > 100) throw new InvalidError(`the link target of ${member.name} is too long for a tar header`);
    header.write(member.linkTarget, 157, 100, "utf8");
  }
  header.write("ustar\0", 257, 6, "latin1");
  header.write("00", 263, 2, "latin1");
  header.write(prefix, 345, 155, "utf8");
  header.fill(0x20, 148, 156);
  const sum = header.reduce((total, byte) => total + byte, 0);
  header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8, "latin1");
  return header;
}

/** Zero bytes that pad `size` data bytes to a whole block. */
export function tarPadding(size: number): Buffer {
  return Buffer.alloc((TAR_BLOCK - (size % TAR_BLOCK)) % TAR_BLOCK);
}

/** The end of an archive: two zero blocks. */
export function tarEnd(): Buffer {
  return Buffer.alloc(2 * TAR_BLOCK);
}

/** A whole member with small in-memory content (backup_label, a .done marker). */
export function tarFileWithContent(name: string, content: Buffer, mtime: number): Buffer {
  const header = tarHeader({ name, type: "file", size: content.length, mode: 0o600, uid: 0, gid: 0, mtime });
  return Buffer.concat([header, content, tarPadding(content.length)]);
}

function octal(header: Buffer, offset: number, length: number, value: number): void {
  const text = value.toString(8);
  if (text.length > length - 1) throw new InvalidError(`a tar header field cannot hold ${value}`);
  header.write(`${text.padStart(length - 1, "0")}\0`, offset, length, "latin1");
}

/** The ustar name and prefix of `path` (split at a slash when longer than 100 bytes). */
function splitName(path: string): { name: string; prefix: string } {
  if (Buffer.byteLength(path) <= 100) return { name: path, prefix: "" };
  const trimmed = path.endsWith("/") ? path.slice(0, -1) : path;
  for (let at = trimmed.indexOf("/"); at > 0; at = trimmed.indexOf("/", at + 1)) {
    const prefix = trimmed.slice(0, at);
    const name = path.slice(at + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100) return { name, prefix };
  }
  throw new InvalidError(`${path} is too long for a ustar archive`);
}
