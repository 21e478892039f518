/** From a BackupRepo object to a repository to read and write: the built-in storage providers. */
import { isAbsolute } from "node:path";
import { openRepositoryAt, type BackupRepository, type RepositoryAddress } from "../backup/index.ts";
import { isDefaultRepo, type BackupRepo, type Secret } from "../api/index.ts";
import { InvalidError, NotFoundError } from "../errors/index.ts";
import type { Store } from "../store/index.ts";

/** A prefix every repository may list, to check that it can be reached. */
export const MANIFESTS_PREFIX_FOR_CHECK = "manifests/";

/** Open the repository a BackupRepo describes; S3 credentials come from its credential Secret. */
export async function openRepository(repo: BackupRepo, store: Store): Promise<BackupRepository> {
  return openRepositoryAt(await repositoryAddress(repo, store));
}

/** The address of the repository a BackupRepo describes (S3 credentials read from its credential Secret). */
export async function repositoryAddress(repo: BackupRepo, store: Store): Promise<RepositoryAddress> {
  const provider = repo.spec.storageProviderRef;
  const config = repo.spec.config ?? {};
  if (provider === "local") return { provider: "local", path: localPath(repo, config) };
  if (provider === "s3" || provider === "minio") return { provider: "s3", ...s3Location(repo, config), ...(await s3Credentials(repo, store)) };
  throw new InvalidError(`BackupRepo ${repo.metadata.name} uses storage provider ${provider}, which this build does not have; use local, s3 or minio`);
}

function localPath(repo: BackupRepo, config: Record<string, string>): string {
  const path = config["path"];
  if (path === undefined || !isAbsolute(path)) throw new InvalidError(`BackupRepo ${repo.metadata.name}: the local provider needs spec.config.path, an absolute directory`);
  return path;
}

function s3Location(repo: BackupRepo, config: Record<string, string>): { endpoint: string; region: string; bucket: string; prefix?: string } {
  const bucket = config["bucket"];
  const endpoint = config["endpoint"];
  if (bucket === undefined || endpoint === undefined) {
    throw new InvalidError(`BackupRepo ${repo.metadata.name}: the ${repo.spec.storageProviderRef} provider needs spec.config.bucket and spec.config.endpoint`);
  }
  const prefix = (repo.spec.pathPrefix ?? config["prefix"] ?? "").replace(/^\/+|\/+$/g, "");
  return { endpoint, bucket, region: config["region"] ?? "us-east-1", ...(prefix === "" ? {} : { prefix }) };
}

async function s3Credentials(repo: BackupRepo, store: Store): Promise<{ accessKeyId: string; secretAccessKey: string }> {
  const reference = repo.spec.credential;
  if (reference === undefined) throw new InvalidError(`BackupRepo ${repo.metadata.name}: set spec.credential to a Secret with accessKeyId and secretAccessKey`);
  const secret = await store.get<Secret>({ kind: "Secret", namespace: reference.namespace, name: reference.name });
  const value = (key: string): string | undefined => {
    const encoded = secret?.data?.[key];
    return encoded === undefined ? undefined : Buffer.from(encoded, "base64").toString("utf8");
  };
  const accessKeyId = value("accessKeyId");
  const secretAccessKey = value("secretAccessKey");
  if (accessKeyId === undefined || secretAccessKey === undefined) {
    throw new NotFoundError(`BackupRepo ${repo.metadata.name}: Secret ${reference.namespace}/${reference.name} must hold accessKeyId and secretAccessKey`, { subject: { kind: "Secret", name: reference.name } });
  }
  return { accessKeyId, secretAccessKey };
}

/** The repository named `name`, or the default one when `name` is undefined; NotFoundError says what to do. */
export async function findBackupRepo(store: Store, name: string | undefined): Promise<BackupRepo> {
  if (name !== undefined && name !== "") {
    const repo = await store.get<BackupRepo>({ kind: "BackupRepo", name });
    if (repo === undefined) throw new NotFoundError(`BackupRepo ${name} does not exist; list them with holdfast get backuprepos`, { subject: { kind: "BackupRepo", name, group: "dataprotection.kubeblocks.io" } });
    return repo;
  }
  const repos = (await store.list<BackupRepo>("BackupRepo")).items.filter(isDefaultRepo);
  const chosen = repos.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))[0];
  if (chosen === undefined) throw new NotFoundError("there is no default BackupRepo; name one in the BackupPolicy (spec.backupRepoName) or annotate one with dataprotection.kubeblocks.io/is-default-repo: \"true\"");
  return chosen;
}
