/** Shared by the control-plane tests: a throwaway embedded store. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSqliteStore, type Store } from "../store/index.ts";

/** Run `body` with a fresh embedded store, closed and removed afterwards. */
export async function withSqliteStore(body: (store: Store) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "holdfast-controlplane-"));
  const store = openSqliteStore({ path: join(dir, "store.db") });
  try {
    await body(store);
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
