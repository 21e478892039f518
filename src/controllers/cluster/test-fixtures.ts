/** Objects for the cluster controller's unit tests. */
import type { Node } from "../../api/index.ts";

/** A Node with its hostname label, `labels`, the `engines` installed and a Ready condition (since 2026-01-01). */
export function testNode(name: string, ready: boolean, labels: Record<string, string> = {}, engines: Record<string, string[]> = { postgresql: ["16.4", "15.8"] }): Node {
  return {
    apiVersion: "holdfast.io/v1alpha1",
    kind: "Node",
    metadata: { name, labels: { "kubernetes.io/hostname": name, ...labels } },
    spec: {},
    status: {
      engines: Object.entries(engines).map(([engine, versions]) => ({ name: engine, versions })),
      conditions: [{ type: "Ready", status: ready ? "True" : "False", reason: ready ? "NodeAgentReady" : "NodeStatusUnknown", message: "", lastTransitionTime: "2026-01-01T00:00:00Z" }],
    },
  };
}
