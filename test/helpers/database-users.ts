/** DatabaseUsers as the managed-user tests drive them: read one, its Secret's password, apply one and wait until Ready. */
import assert from "node:assert/strict";
import type { DatabaseUser } from "../../src/api/index.ts";
import { eventually, type TestServer } from "./harness.ts";

export async function getDatabaseUser(server: TestServer, namespace: string, name: string): Promise<DatabaseUser> {
  return server.api<DatabaseUser>(`/apis/holdfast.io/v1/namespaces/${namespace}/databaseusers/${name}`);
}

/** The password in the user's Secret (named in its status). */
export async function databaseUserPassword(server: TestServer, namespace: string, name: string): Promise<string> {
  const secretName = (await getDatabaseUser(server, namespace, name)).status?.secretName ?? assert.fail(`databaseuser ${name} names no secret`);
  const secret = await server.api<{ data: Record<string, string> }>(`/api/v1/namespaces/${namespace}/secrets/${secretName}`);
  return Buffer.from(secret.data["password"] ?? "", "base64").toString("utf8");
}

/** Apply a DatabaseUser and wait until every server holding it has it as specified. */
export async function applyDatabaseUserReady(server: TestServer, namespace: string, manifest: string, name: string): Promise<void> {
  await server.ok(["apply", "-f", "-"], manifest);
  await eventually(`databaseuser ${name} Ready for its generation`, async () => {
    const user = await getDatabaseUser(server, namespace, name);
    return user.status?.phase === "Ready" && user.status.observedGeneration === user.metadata.generation ? true : undefined;
  }, 90_000);
}
