/** The high-availability settings of an instance's cluster, as its node agent reads them. */
import { DEFAULT_HA_SETTINGS, haSettings, type Cluster, type HaSettings, type Instance } from "../api/index.ts";
import type { Store } from "../store/index.ts";

/** The settings of `instance`'s cluster; the defaults when it is gone. */
export async function clusterSettingsOf(store: Store, instance: Instance): Promise<HaSettings> {
  const cluster = await store.get<Cluster>({ kind: "Cluster", namespace: instance.metadata.namespace ?? "default", name: instance.spec.clusterName });
  return cluster === undefined ? DEFAULT_HA_SETTINGS : haSettings(cluster);
}

/** How long the primary lease of `instance`'s component lasts. */
export async function leaseDurationOf(store: Store, instance: Instance): Promise<number> {
  return (await clusterSettingsOf(store, instance)).leaseDurationMs;
}
