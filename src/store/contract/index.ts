/** The store contract suite: the same tests for every Store implementation. */
import type { StoreHarness } from "./fixtures.ts";
import { describeLeaseContract } from "./lease-contract.ts";
import { describeObjectContract } from "./object-contract.ts";
import { describeWatchContract } from "./watch-contract.ts";

export { cluster, collect, ownedInstance, settle, summarize, until, watchFailure, type Collected, type StoreHarness } from "./fixtures.ts";

/** Register every contract test for one implementation. */
export function describeStoreContract(harness: StoreHarness): void {
  describeObjectContract(harness);
  describeWatchContract(harness);
  describeLeaseContract(harness);
}
