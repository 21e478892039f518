/** `<home>/server.json`: how the CLI finds the running server, and a guard against two servers on one home. */
import { readFile, rm, writeFile } from "node:fs/promises";
import { z } from "zod";

export const serverInfoSchema = z.object({ url: z.string(), pid: z.int(), startedAt: z.string() });
export type ServerInfo = z.infer<typeof serverInfoSchema>;

/** The recorded server, if the file exists and parses. */
export async function readServerInfo(path: string): Promise<ServerInfo | undefined> {
  try {
    return serverInfoSchema.parse(JSON.parse(await readFile(path, "utf8")));
  } catch {
    return undefined;
  }
}

/** Is the process recorded in server.json alive (and not us)? */
export function isOtherServerAlive(info: ServerInfo | undefined): boolean {
  if (!info || info.pid === process.pid) return false;
  try {
    process.kill(info.pid, 0);
    return true;
  } catch {
    // EPERM included: a pid of another user's is not a server of this home (it runs as this user).
    return false;
  }
}

export async function writeServerInfo(path: string, info: ServerInfo): Promise<void> {
  await writeFile(path, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o644 });
}

export async function removeServerInfo(path: string): Promise<void> {
  await rm(path, { force: true });
}
