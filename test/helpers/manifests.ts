/** Example manifests from ../shared/kubeblocks-examples, adjusted only where the issue says so. */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseAllDocuments, stringify } from "yaml";
import { EXAMPLES } from "./harness.ts";

/** The text of an example file, unchanged. */
export function example(path: string): Promise<string> {
  return readFile(join(EXAMPLES, path), "utf8");
}

/** An example with changes applied to its (first) document, as YAML. */
export async function exampleWith(path: string, change: (doc: Record<string, any>) => void): Promise<string> {
  const docs = parseAllDocuments(await example(path)).map((d) => d.toJS() as Record<string, any>);
  const first = docs[0];
  if (!first) throw new Error(`${path} has no document`);
  change(first);
  return docs.map((d) => stringify(d)).join("---\n");
}

/** The PostgreSQL example with one replica and the installed major version. */
export function postgresExample(major: string, change: (doc: Record<string, any>) => void = () => undefined): Promise<string> {
  return exampleWith("postgresql/cluster.yaml", (doc) => {
    doc["spec"].componentSpecs[0].replicas = 1;
    doc["spec"].componentSpecs[0].serviceVersion = major;
    change(doc);
  });
}
