/** What a Redis cluster is made of: topologies, system accounts, packages. */
import type { ClusterDefinition, StopBehaviour, SystemAccount } from "../types.ts";

/**
 * The built-in ClusterDefinition `redis`. KubeBlocks defaults to `replication`; Holdfast cannot run
 * replicas and Sentinel yet, so `standalone` is the default and `replication` is listed with
 * maxReplicas 0: a cluster asking for it fails validation instead of silently running one node.
 */
export const REDIS_DEFINITION: ClusterDefinition = {
  name: "redis",
  topologies: [
    { name: "standalone", default: true, components: [{ name: "redis", minReplicas: 1, maxReplicas: 1 }] },
    {
      name: "replication",
      default: false,
      components: [
        { name: "redis", minReplicas: 0, maxReplicas: 0 },
        { name: "redis-sentinel", minReplicas: 0, maxReplicas: 0 },
      ],
    },
  ],
};

/** The ACL user `default`; first, so it is the administrator used for probes and `cluster connect`. */
export const REDIS_ACCOUNTS: readonly SystemAccount[] = [{ name: "default", purpose: "administrator: all commands and keys, probes" }];

/** Debian packages providing the server and redis-cli. */
export const REDIS_PACKAGES: readonly string[] = ["redis-server", "redis-tools"];

/** SIGTERM makes Redis save (AOF fsync / RDB) and exit. */
export const REDIS_STOP: StopBehaviour = { signal: "SIGTERM", timeoutMs: 30_000 };
