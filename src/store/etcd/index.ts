/** The etcd store backend: the v3 client and the Store on it. */
export { EtcdClient, EtcdResponseError, type Compare, type EtcdClientOptions, type KeyRange, type MemberStatus, type RangeOptions, type RangeResult, type TxnOp, type TxnOpResult, type TxnResult } from "./client.ts";
export { parseEtcdUrl, type EtcdConnection } from "./endpoints.ts";
export { CompactedError, watchRange, type EtcdWatch, type EtcdWatchEvent, type EtcdWatchHandlers } from "./watch-stream.ts";
export type { KeyValue } from "./wire.ts";
export { openEtcdStore, type EtcdStoreOptions } from "./etcd-store.ts";
export { DEFAULT_ETCD_PREFIX } from "./layout.ts";
