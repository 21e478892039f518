/** Instance directories: created owned by the service user, removed only inside the instances root. */
import { constants } from "node:fs";
import { mkdir, open, rm } from "node:fs/promises";
import { dirname, isAbsolute, relative, resolve, sep } from "node:path";
import { InvalidError } from "../../errors/index.ts";
import { isRoot, type ServiceUser } from "./service-user.ts";

/** Is `child` strictly inside `parent` (not equal to it, not outside it)? Both are resolved first. */
export function isStrictlyInside(child: string, parent: string): boolean {
  const rel = relative(resolve(parent), resolve(child));
  return rel !== "" && rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/**
 * Give an existing directory to `user` with mode 0700, refusing to follow a symlink: the database
 * owns these directories and must not trick root into chowning something else.
 */
export async function claimDirectory(path: string, user: ServiceUser): Promise<void> {
  const handle = await open(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    if (isRoot()) await handle.chown(user.uid, user.gid);
    await handle.chmod(0o700);
  } finally {
    await handle.close();
  }
}

/** The directories from `top` (inclusive) down to `path` (inclusive), outermost first. */
export function pathsBetween(top: string, path: string): string[] {
  const outermost = resolve(top);
  const chain = [resolve(path)];
  if (chain[0] === outermost) return chain;
  if (!isStrictlyInside(path, top)) throw new InvalidError(`${path} is not inside ${top}`);
  for (let current = dirname(resolve(path)); current !== outermost; current = dirname(current)) chain.unshift(current);
  chain.unshift(outermost);
  return chain;
}

/** Create a directory and its parents below `top`, each owned by `user` with mode 0700. */
export async function createOwnedDirectory(path: string, top: string, user: ServiceUser): Promise<void> {
  await mkdir(path, { recursive: true, mode: 0o700 });
  for (const directory of pathsBetween(top, path)) await claimDirectory(directory, user);
}

/** Where one instance's files live. */
export interface InstanceDirectories {
  rootDirectory: string;
  dataDirectory: string;
  runDirectory: string;
}

/** Create an instance's root, data and run directories (mkdir -p), owned by `user`, mode 0700. */
export async function createInstanceDirectories(paths: InstanceDirectories, user: ServiceUser): Promise<void> {
  for (const [field, path] of [["dataDirectory", paths.dataDirectory], ["runDirectory", paths.runDirectory]] as const) {
    if (!isStrictlyInside(path, paths.rootDirectory)) {
      throw new InvalidError(`${field} ${path} must be inside the instance root ${paths.rootDirectory}`, { causes: [{ field, message: `must be inside ${paths.rootDirectory}` }] });
    }
  }
  await createOwnedDirectory(paths.rootDirectory, paths.rootDirectory, user);
  await createOwnedDirectory(paths.dataDirectory, paths.rootDirectory, user);
  await createOwnedDirectory(paths.runDirectory, paths.rootDirectory, user);
}

/** rm -rf an instance's root directory, refusing any path that is not strictly inside `instancesRoot`. */
export async function removeInstanceDirectory(rootDirectory: string, instancesRoot: string): Promise<void> {
  if (!isAbsolute(rootDirectory) || !isAbsolute(instancesRoot) || !isStrictlyInside(rootDirectory, instancesRoot)) {
    throw new InvalidError(`Refusing to remove ${rootDirectory}: it is not inside the instances directory ${instancesRoot}`, {
      causes: [{ field: "status.dataDirectory", message: `must be inside ${instancesRoot}` }],
    });
  }
  await rm(rootDirectory, { recursive: true, force: true });
}
