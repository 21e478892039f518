/** The keyring file: its format, its permission check, and atomic replacement. */
import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { link, mkdir, open, readFile, rename, stat, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { z } from "zod";
import { UnavailableError } from "../../errors/index.ts";

/** Key ids appear inside ciphertexts between ':' separators, so they are restricted to a safe alphabet. */
const KEY_ID = /^[A-Za-z0-9_-]{1,64}$/;

const keyringFileSchema = z.object({
  version: z.literal(1),
  primaryKeyId: z.string().regex(KEY_ID),
  keys: z
    .array(
      z.object({
        id: z.string().regex(KEY_ID),
        createdAt: z.string(),
        key: z.base64().refine((value) => Buffer.from(value, "base64").length === 32, "must be 32 bytes"),
      }),
    )
    .min(1),
});

/** The keyring file's content. */
export type KeyringFile = z.infer<typeof keyringFileSchema>;

/** A fresh key entry: 32 random bytes under a random id. */
export function newKeyEntry(): KeyringFile["keys"][number] {
  return { id: randomBytes(8).toString("hex"), createdAt: new Date().toISOString(), key: randomBytes(32).toString("base64") };
}

/** Read and check the keyring file; undefined when it does not exist yet. */
export async function readKeyringFile(path: string): Promise<KeyringFile | undefined> {
  const info = await stat(path).catch((error: unknown) => {
    if (isMissing(error)) return undefined;
    throw error;
  });
  if (info === undefined) return undefined;
  checkPrivateMode(path, info.mode, "secret keyring");
  const parsed = keyringFileSchema.safeParse(parseJson(await readFile(path, "utf8")));
  if (!parsed.success) {
    throw new UnavailableError(`the secret keyring ${path} is not a valid keyring (${parsed.error.issues[0]?.message ?? "bad format"}); restore it from a backup`);
  }
  const file = parsed.data;
  if (!file.keys.some((entry) => entry.id === file.primaryKeyId)) {
    throw new UnavailableError(`the secret keyring ${path} names primary key ${file.primaryKeyId}, which it does not hold; restore it from a backup`);
  }
  return file;
}

/**
 * Write the keyring file atomically (temp file, fsync, rename, fsync of the directory), mode 0600.
 * With `exclusive`, refuse to replace an existing file: two first starts must not make two keyrings.
 */
export async function writeKeyringFile(path: string, file: KeyringFile, exclusive: boolean): Promise<void> {
  await writePrivateFile(path, `${JSON.stringify(file, null, 2)}\n`, exclusive);
}

/**
 * Write a secret file atomically (temp file, fsync, rename, fsync of the directory), mode 0600 in a 0700 directory.
 * With `exclusive`, refuse to replace an existing file (EEXIST).
 */
export async function writePrivateFile(path: string, content: string | Buffer, exclusive: boolean): Promise<void> {
  const directory = dirname(path);
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const temporary = join(directory, `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  const handle = await open(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    if (exclusive) await link(temporary, path);
    else await rename(temporary, path);
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
  await syncDirectory(directory);
}

/** Throw unless the secret file at `path` is private to its owner. */
export function checkPrivateMode(path: string, mode: number, what: string): void {
  if ((mode & 0o077) !== 0) {
    const shown = (mode & 0o777).toString(8);
    throw new UnavailableError(`the ${what} ${path} is readable by others (mode ${shown}); run \`chmod 600 ${path}\` and start again`);
  }
}

/** Whether a file-system error means "no such file". */
export function isMissing(error: unknown): boolean {
  return error instanceof Error && "code" in error && error.code === "ENOENT";
}

/** Whether a file-system error means "already exists". */
export function isExisting(error: unknown): boolean {
  return error instanceof Error && "code" in error && error.code === "EEXIST";
}

async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
