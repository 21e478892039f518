/** Which instance of a cluster restores its data from a backup: the first of its component; the others follow it (pure). */
import { restoreSourceFor, type Cluster, type InstanceSpec } from "../../api/index.ts";

/** The `restore` field of the instance spec at `ordinal` of `component`, or nothing. */
export function restoreFields(cluster: Cluster, component: string, ordinal: number): Pick<InstanceSpec, "restore"> {
  if (ordinal !== 0) return {};
  let source;
  try {
    source = restoreSourceFor(cluster, component);
  } catch {
    // A malformed annotation is refused at admission; one that got in another way restores nothing.
    return {};
  }
  return source === undefined ? {} : { restore: source };
}
