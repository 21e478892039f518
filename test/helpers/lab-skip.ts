/** Why a lab test file cannot run here: missing prerequisites, or another lab's namespaces (never touched). */
import { LAB_PREFIX, labPrerequisites, listNamespaces } from "../../src/lab/index.ts";

export async function labSkipReason(): Promise<string | undefined> {
  const missing = labPrerequisites();
  if (missing.length > 0) return `the lab cannot run here: ${missing.join("; ")}`;
  const others = (await listNamespaces()).filter((name) => name.startsWith(LAB_PREFIX));
  return others.length > 0 ? `namespaces ${others.join(", ")} exist (another lab is up); not touching them` : undefined;
}
