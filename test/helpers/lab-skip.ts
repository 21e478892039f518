/** Why a lab test file cannot run here: missing prerequisites, or another lab's namespaces (never touched). */
import { labNetwork, labPrerequisites, listNamespaces } from "../../src/lab/index.ts";

/**
 * The lab network the multihost tests use: `HOLDFAST_TEST_LAB_NETWORK` (1 to 9, default 1), so that labs of
 * different runs can exist side by side on one machine (each network has its own names and subnet).
 */
export function testLabNetwork(): number {
  return labNetwork(Number(process.env["HOLDFAST_TEST_LAB_NETWORK"] ?? 1)).number;
}

export async function labSkipReason(network = testLabNetwork()): Promise<string | undefined> {
  const missing = labPrerequisites();
  if (missing.length > 0) return `the lab cannot run here: ${missing.join("; ")}`;
  const { prefix } = labNetwork(network);
  const others = (await listNamespaces()).filter((name) => name.startsWith(prefix));
  return others.length > 0 ? `namespaces ${others.join(", ")} exist (another lab is up); not touching them` : undefined;
}
