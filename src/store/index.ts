/** The store: its contract, the embedded sqlite and the etcd implementations, leases and label selectors. */
export type * from "./types.ts";
export type * from "./leases.ts";
export { UNREADABLE_ANNOTATION } from "./types.ts";
export { openSqliteStore, type SqliteStoreOptions } from "./sqlite/index.ts";
export { matchesLabelSelector, parseLabelSelector, type LabelOperator, type LabelRequirement, type LabelSelector } from "./label-selector.ts";
export { LEASE_NAMESPACE, type LeaseSpec } from "./lease-object.ts";
export {
  CompactedError,
  DEFAULT_ETCD_PREFIX,
  EtcdClient,
  EtcdResponseError,
  openEtcdStore,
  parseEtcdUrl,
  watchRange,
  type Compare,
  type EtcdClientOptions,
  type EtcdConnection,
  type EtcdStoreOptions,
  type EtcdWatch,
  type EtcdWatchEvent,
  type EtcdWatchHandlers,
  type KeyRange,
  type KeyValue,
  type MemberStatus,
  type RangeOptions,
  type RangeResult,
  type TxnOp,
  type TxnOpResult,
  type TxnResult,
} from "./etcd/index.ts";
export { jsonEqual } from "./json-equal.ts";
