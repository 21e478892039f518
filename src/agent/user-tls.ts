/** The TLS files of an instance serving the certificate of a `UserProvided` issuer's Secret (userTlsFiles). */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { HostAccess, InstanceLayout } from "../engines/index.ts";
import type { TlsFileContents } from "../security/index.ts";
import { instanceTlsFiles } from "./instance-tls.ts";

/** Do the instance's TLS files hold `files` already? */
export async function userTlsInPlace(layout: Pick<InstanceLayout, "rootDirectory">, files: TlsFileContents): Promise<boolean> {
  const paths = instanceTlsFiles(layout);
  const read = (path: string): Promise<string> => readFile(path, "utf8").catch(() => "");
  const [cert, key, ca] = await Promise.all([read(paths.certificateFile), read(paths.keyFile), read(paths.caFile)]);
  return cert === files.cert && key === files.key && ca === files.ca;
}

/** Write `files` as the instance's TLS files, as its OS user, 0600 (the key first: a certificate always has its key). */
export async function writeUserTls(layout: Pick<InstanceLayout, "rootDirectory">, files: TlsFileContents, host: HostAccess): Promise<void> {
  const paths = instanceTlsFiles(layout);
  await host.mkdir(join(layout.rootDirectory, "tls"));
  await host.writeFile(paths.keyFile, files.key, 0o600);
  await host.writeFile(paths.certificateFile, files.cert, 0o600);
  await host.writeFile(paths.caFile, files.ca, 0o600);
}
