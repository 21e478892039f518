/**
 * A store client that never stops writing: run as a child process and killed (SIGKILL) by a test to simulate a crash.
 * argv: store path. Keeps WRITERS writes in flight (creates, then updates of what it created, so groups mix both) and
 * prints "ack NAME RESOURCEVERSION" for each write only once the store has acknowledged it.
 */
import type { Resource } from "../../src/api/index.ts";
import { openSqliteStore } from "../../src/store/index.ts";

const WRITERS = 16;
const [path] = process.argv.slice(2);
if (path === undefined) throw new Error("usage: sqlite-crash-writer STORE_PATH");
const store = openSqliteStore({ path });

function cluster(name: string, replicas: number): Resource {
  return {
    apiVersion: "apps.kubeblocks.io/v1",
    kind: "Cluster",
    metadata: { name, namespace: "default" },
    spec: { clusterDef: "postgresql", componentSpecs: [{ name: "postgresql", replicas }] },
  };
}

async function writeForever(writer: number): Promise<void> {
  for (let round = 0; ; round++) {
    const name = `w${writer}-${Math.floor(round / 2)}`;
    const written = round % 2 === 0 ? await store.create(cluster(name, 1)) : await store.update(cluster(name, 2));
    // stdout is a pipe: the write is synchronous, so a line the parent reads was printed after the acknowledgement.
    process.stdout.write(`ack ${name} ${written.metadata.resourceVersion ?? ""}\n`);
  }
}

await Promise.all(Array.from({ length: WRITERS }, (_, writer) => writeForever(writer)));
