/**
 * The request to rebuild one instance (a RebuildInstance, ADR 0045), carried on its Cluster as an annotation so the
 * cluster controller, the one writer of instance specs, copies it into the Instance's `spec.rebuild`.
 */
import { z } from "zod";
import type { Cluster, InstanceSpec } from "../../api/index.ts";

/** What an Instance's spec.rebuild holds. */
export type RebuildRequest = NonNullable<InstanceSpec["rebuild"]>;

const rebuildRequestSchema = z.object({ request: z.string().min(1), backup: z.object({ backupName: z.string(), backupNamespace: z.string() }).optional() });

/** Annotation on a Cluster asking for a rebuild of its instance `instance`; its value is a RebuildRequest in JSON. */
export function rebuildAnnotation(instance: string): string {
  return `holdfast.io/rebuild.${instance}`;
}

/** The annotation's value for `request`. */
export function encodeRebuildRequest(request: RebuildRequest): string {
  return JSON.stringify(request);
}

/** The rebuild the cluster asks of its instance `instance`, if any; a value that does not parse asks for none. */
export function rebuildRequestOf(cluster: Cluster, instance: string): RebuildRequest | undefined {
  const value = cluster.metadata.annotations?.[rebuildAnnotation(instance)];
  if (value === undefined) return undefined;
  try {
    const parsed = rebuildRequestSchema.safeParse(JSON.parse(value));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
