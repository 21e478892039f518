/**
 * Where a repository is and how to reach it, as plain data: what a process of its own needs to open it (ADR 0050).
 * An S3 address holds the credentials, so it travels over a pipe, never argv or env.
 */
import { z } from "zod";
import { LocalRepository } from "./local-repository.ts";
import type { BackupRepository } from "./repository.ts";
import { S3Repository } from "./s3-repository.ts";

export const repositoryAddressSchema = z.discriminatedUnion("provider", [
  z.strictObject({ provider: z.literal("local"), path: z.string().min(1) }),
  z.strictObject({
    provider: z.literal("s3"),
    endpoint: z.string().min(1),
    region: z.string().min(1),
    bucket: z.string().min(1),
    prefix: z.string().min(1).optional(),
    accessKeyId: z.string().min(1),
    secretAccessKey: z.string().min(1),
  }),
]);

/** See repositoryAddressSchema. */
export type RepositoryAddress = z.infer<typeof repositoryAddressSchema>;

/** Open the repository at `address`. */
export async function openRepositoryAt(address: RepositoryAddress): Promise<BackupRepository> {
  if (address.provider === "local") return LocalRepository.open(address.path);
  const { endpoint, region, bucket, prefix, accessKeyId, secretAccessKey } = address;
  return new S3Repository({ endpoint, region, bucket, accessKeyId, secretAccessKey, ...(prefix === undefined ? {} : { prefix }) });
}
