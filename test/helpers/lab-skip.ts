/** Why a lab test file cannot run here: missing prerequisites, or namespaces of another lab on its network (never touched). */
import { labPrerequisites, listNamespaces, type LabNetwork } from "../../src/lab/index.ts";

export async function labSkipReason(network: LabNetwork): Promise<string | undefined> {
  const missing = labPrerequisites();
  if (missing.length > 0) return `the lab cannot run here: ${missing.join("; ")}`;
  const others = (await listNamespaces()).filter((name) => name.startsWith(network.prefix));
  return others.length > 0 ? `namespaces ${others.join(", ")} exist (another lab is up on network ${network.number}); not touching them` : undefined;
}
