/** Reads of backups and clusters the backup end-to-end tests share. */
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { Backup } from "../../src/api/index.ts";
import type { TestServer } from "./harness.ts";

/** The Backup `name` of `namespace`, as the API serves it. */
export function backupOf(server: TestServer, namespace: string, name: string): Promise<Backup> {
  return server.api<Backup>(`/apis/dataprotection.kubeblocks.io/v1alpha1/namespaces/${namespace}/backups/${name}`);
}

/** Wait until `cluster` is Running (4 minutes at most); otherwise fail with what `describe` says of it. */
export async function waitClusterRunning(server: TestServer, namespace: string, cluster: string): Promise<void> {
  const result = await server.cli(["wait", `cluster/${cluster}`, "-n", namespace, "--for=phase=Running", "--timeout=240s"]);
  if (result.code === 0) return;
  const described = await server.cli(["describe", "cluster", cluster, "-n", namespace]);
  throw new Error(`cluster ${cluster} is not Running:\n${described.stdout}\n${described.stderr}`);
}

/** Every file under `directory` (none when it does not exist). */
export async function filesUnder(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}
