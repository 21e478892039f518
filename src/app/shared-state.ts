/**
 * What a node shares with the other control-plane nodes, opened in one place from the home's configuration: the
 * object store, the authentication state and the secret keyring. On the embedded store all three are files of the
 * home; on etcd they live in etcd (the keyring wrapped under this node's key-encryption key).
 */
import type { HomePaths } from "../config/index.ts";
import type { ControlPlaneConfig, EtcdStoreConfig } from "../controlplane/index.ts";
import { createSecretCodec, openSharedSecurity, type SharedAuthSettings, type SharedSecurity } from "../security/index.ts";
import { EtcdClient, openEtcdStore, openSqliteStore, type EtcdConnection, type Store } from "../store/index.ts";

/** The shared state of a node, and how to close it. */
export interface SharedState {
  store: Store;
  security: SharedSecurity;
  close(): Promise<void>;
}

/** The etcd connection of a home's configuration (TLS files from `<home>/etcd`). */
export function etcdConnection(paths: HomePaths, store: EtcdStoreConfig): EtcdConnection {
  const files = paths.etcdTls;
  if (store.tls === "none") return { endpoints: store.endpoints };
  if (store.tls === "server") return { endpoints: store.endpoints, ca: files.caCertificate };
  return { endpoints: store.endpoints, ca: files.caCertificate, cert: files.clientCertificate, key: files.clientKey };
}

/** Open the store and security state the home's configuration names; `existing`: the embedded store must exist already. */
export async function openSharedState(paths: HomePaths, config: ControlPlaneConfig, options: { existing: boolean; auth?: SharedAuthSettings }): Promise<SharedState> {
  if (config.store.type === "sqlite") {
    const security = await openSharedSecurity({ store: "sqlite", paths, ...(options.auth === undefined ? {} : { auth: options.auth }) });
    const store = openSqliteStore({ path: paths.store, existing: options.existing, codec: createSecretCodec(security.keyring) });
    return {
      store,
      security,
      close: () => {
        store.close();
        security.close();
        return Promise.resolve();
      },
    };
  }
  const connection = etcdConnection(paths, config.store);
  const client = new EtcdClient(connection);
  try {
    const security = await openSharedSecurity({ store: "etcd", client, kekFile: paths.keyEncryptionKey, ...(options.auth === undefined ? {} : { auth: options.auth }) });
    const store = await openEtcdStore({ client, codec: createSecretCodec(security.keyring) }).catch((error: unknown) => {
      security.close();
      throw error;
    });
    return {
      store,
      security,
      close: async () => {
        store.close();
        security.close();
        await client.close();
      },
    };
  } catch (error) {
    await client.close();
    throw error;
  }
}
