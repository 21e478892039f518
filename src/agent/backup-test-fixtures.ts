/**
 * Shared by this folder's backup tests: a temporary home with a real store, keyring and local repository, an engine
 * stand-in named `toy` (version 1.0) with the methods a test gives it, and one cluster component `pg/postgresql` with
 * its BackupPolicy and account Secret.
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Instance, Resource } from "../api/index.ts";
import { LocalRepository } from "../backup/index.ts";
import { homePaths, type HomePaths } from "../config/index.ts";
import type { EngineLookup } from "../controllers/cluster/index.ts";
import type { EventRecorder } from "../controllers/runtime/index.ts";
import { ensureDefaultBackupRepo } from "../dataprotection/index.ts";
import type { BackupMethodDefinition, Engine } from "../engines/index.ts";
import { createHostAccess, type InstanceUsers } from "../runtime/index.ts";
import { loadOrCreateKeyring, type Keyring } from "../security/index.ts";
import { openSqliteStore, type Store } from "../store/index.ts";
import { instanceLayout } from "./layout.ts";

export const NS = "demo";
export const POLICY = "pg-postgresql-backup-policy";

/** A temporary home; `remove()` deletes it. */
export interface BackupFixture {
  paths: HomePaths;
  store: Store;
  keyring: Keyring;
  repository: LocalRepository;
  engines: EngineLookup;
  /** Every instance runs as the current (root) user. */
  users: InstanceUsers;
  events: EventRecorder;
  remove(): Promise<void>;
}

/** A home whose engine `toy` has `methods`. */
export async function backupFixture(methods: readonly Partial<BackupMethodDefinition>[]): Promise<BackupFixture> {
  const dir = await mkdtemp(join(tmpdir(), "holdfast-agent-backup-"));
  const store = openSqliteStore({ path: join(dir, "store.db") });
  const repository = await LocalRepository.open(join(dir, "backups"));
  await ensureDefaultBackupRepo(store, repository.root);
  const engine = { name: "toy", backupMethods: methods } as unknown as Engine;
  const engines: EngineLookup = { list: () => [engine], find: (name) => (name === "toy" ? engine : undefined), versions: () => Promise.resolve([{ version: "1.0", major: "1", binDir: "/nonexistent" }]) };
  const me = { name: "root", uid: 0, gid: 0 };
  const users: InstanceUsers = { userOf: () => Promise.resolve(me), hostOf: () => Promise.resolve(createHostAccess(me)) };
  const remove = async (): Promise<void> => {
    store.close();
    await rm(dir, { recursive: true, force: true });
  };
  return { paths: homePaths(dir), store, keyring: await loadOrCreateKeyring(join(dir, "keyring.json")), repository, engines, users, events: { record: () => Promise.resolve() }, remove };
}

/** One instance of the component: its ordinal, node (undefined: none named) and role. */
export type SeededInstance = readonly [ordinal: number, nodeName: string | undefined, role: string];

/** Component pg/postgresql with `instances` (ready, their directories made), its policy for `method` and account. */
export async function seedComponent(fixture: BackupFixture, method: string, instances: readonly SeededInstance[]): Promise<void> {
  const { store } = fixture;
  const labels = { "app.kubernetes.io/instance": "pg", "apps.kubeblocks.io/component-name": "postgresql" };
  const spec = { engine: "toy", version: "1.0", clusterName: "pg", componentName: "postgresql", port: 20000, running: true, parameters: {}, deleteData: true };
  for (const [ordinal, nodeName, role] of instances) {
    const created = await store.create<Instance>({ apiVersion: "holdfast.io/v1alpha1", kind: "Instance", metadata: { name: `pg-postgresql-${ordinal}`, namespace: NS, labels }, spec: { ...spec, ordinal, ...(nodeName === undefined ? {} : { nodeName }) } });
    await store.updateStatus({ ...created, status: { ready: true, role } });
    await mkdir(instanceLayout(fixture.paths, created).rootDirectory, { recursive: true });
  }
  await store.create<Resource>({ apiVersion: "v1", kind: "Secret", metadata: { name: "pg-account", namespace: NS }, data: { username: Buffer.from("backup").toString("base64"), password: Buffer.from("secret").toString("base64") } });
  const target = { podSelector: { matchLabels: labels }, connectionCredential: { secretName: "pg-account", usernameKey: "username", passwordKey: "password" } };
  await store.create<Resource>({ apiVersion: "dataprotection.kubeblocks.io/v1alpha1", kind: "BackupPolicy", metadata: { name: POLICY, namespace: NS }, spec: { target, backupMethods: [{ name: method }] } });
}
