/** The engine context of an instance (its layout, engine version, parameters and role): built here only. */
import { instanceHost, type Instance } from "../api/index.ts";
import type { HomePaths } from "../config/index.ts";
import { UnavailableError } from "../errors/index.ts";
import type { Engine, InstanceContext } from "../engines/index.ts";
import { LABEL_INSTANCE, type EngineLookup } from "../controllers/cluster/index.ts";
import type { Store } from "../store/index.ts";
import { instanceTlsFiles } from "./instance-tls.ts";
import { instanceLayout } from "./layout.ts";

/**
 * What `engine` needs to act on `instance` on this node: where its files live, the installed version it runs, its
 * parameters, the role its spec gives it, the address it listens on (its status.host) and its TLS files. UnavailableError when that version is no longer installed here.
 */
export async function instanceContext(paths: HomePaths, engines: Pick<EngineLookup, "versions">, engine: Engine, instance: Instance): Promise<InstanceContext> {
  const version = (await engines.versions(engine.name)).find((v) => v.version === instance.spec.version);
  if (version === undefined) throw new UnavailableError(`${engine.name} ${instance.spec.version} is no longer installed on this host; run holdfast engines install`);
  const layout = instanceLayout(paths, instance);
  return { ...layout, version, parameters: instance.spec.parameters, role: instance.spec.role ?? "primary", address: instanceHost(instance), tls: instanceTlsFiles(layout), ...(instance.spec.clientTls === undefined ? {} : { tlsOnly: true }) };
}

/** The other instances of the component of `instance`. */
export async function componentSiblings(store: Store, instance: Instance): Promise<Instance[]> {
  const { clusterName, componentName } = instance.spec;
  const list = await store.list<Instance>("Instance", { namespace: instance.metadata.namespace ?? "default", labelSelector: `${LABEL_INSTANCE}=${clusterName}` });
  return list.items.filter((i) => i.spec.clusterName === clusterName && i.spec.componentName === componentName && i.metadata.name !== instance.metadata.name);
}

/** The addresses of the instances of `instance`'s component (itself included), as peers reach them (instanceHost). */
export async function componentAddresses(store: Store, instance: Instance): Promise<string[]> {
  const siblings = await componentSiblings(store, instance);
  return [...new Set([instanceHost(instance), ...siblings.map(instanceHost)])].sort();
}
