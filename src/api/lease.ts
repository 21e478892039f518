/** Lease (coordination.k8s.io/v1): which control-plane node runs the controllers, as Kubernetes shows leader election. */
import { z } from "zod";
import { metadataSchema } from "./common.ts";

export const leaseSchema = z.object({
  apiVersion: z.literal("coordination.k8s.io/v1"),
  kind: z.literal("Lease"),
  metadata: metadataSchema,
  spec: z.object({
    holderIdentity: z.string(),
    leaseDurationSeconds: z.int().min(1),
    acquireTime: z.string(),
    renewTime: z.string(),
    leaseTransitions: z.int().min(0),
  }),
});

export type Lease = z.infer<typeof leaseSchema>;
