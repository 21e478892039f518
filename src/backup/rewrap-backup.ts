/** Re-wrap a backup's data key under the keyring's current primary key, so an older key can be retired. */
import { createHash } from "node:crypto";
import { dataKeyAssociatedData } from "./chunk-crypto.ts";
import { sealManifest } from "./manifest.ts";
import { openManifest, type OpenBackupOptions } from "./open-manifest.ts";

/** Authenticate the manifest, wrap its data key anew and replace the manifest atomically. Returns the new manifest's SHA-256. */
export async function rewrapBackup(options: OpenBackupOptions): Promise<{ manifestSha256: string }> {
  const opened = await openManifest(options);
  try {
    const { sealed: _sealed, ...header } = opened.envelope;
    const rewrapped = { ...header, wrappedKey: options.keyring.encrypt(opened.dataKey, dataKeyAssociatedData(header.backupId)) };
    const manifest = sealManifest(opened.keys, rewrapped, opened.body);
    await options.repository.put(opened.objectKey, manifest);
    return { manifestSha256: createHash("sha256").update(manifest).digest("hex") };
  } finally {
    opened.dataKey.fill(0);
  }
}
