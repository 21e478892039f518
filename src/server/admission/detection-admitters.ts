/** Admission of the detection kinds: channels are validated (webhook URL, Secret in holdfast-system); the rest are read-only. */
import { DETECTION_NAMESPACE, notificationChannelSchema, type NotificationChannel } from "../../api/index.ts";
import type { FieldCause } from "../../errors/index.ts";
import { webhookUrlProblem } from "../../detection/index.ts";
import { notFoundCause } from "./references.ts";
import type { KindAdmitter } from "./types.ts";

function channelCauses(channel: NotificationChannel): FieldCause[] {
  const causes: FieldCause[] = [];
  if (channel.metadata.namespace !== DETECTION_NAMESPACE) causes.push({ field: "metadata.namespace", message: `notification channels live in ${DETECTION_NAMESPACE}` });
  const problem = webhookUrlProblem(channel.spec.webhook.url);
  if (problem !== undefined) causes.push({ field: "spec.webhook.url", message: problem });
  return causes;
}

const channelAdmitter: KindAdmitter = {
  schema: notificationChannelSchema,
  // The signing secret is read by the control plane on the writer's behalf: the writer must be able to read it.
  references: (object) => {
    const channel = object as NotificationChannel;
    const name = channel.spec.webhook.secretRef.name;
    return [{ kind: "Secret", namespace: DETECTION_NAMESPACE, name, cause: notFoundCause("spec.webhook.secretRef.name", `secret ${DETECTION_NAMESPACE}/${name}`, "create it first (a random string, or whsec_ and base64)") }];
  },
  validate: (object) => Promise.resolve(channelCauses(object as NotificationChannel)),
};

/** Admitters of Incident, NotificationChannel, SecuritySignal and DetectionState. */
export function detectionAdmitters(): [string, KindAdmitter][] {
  return [
    ["Incident", { readOnly: "incidents are opened by Holdfast's detection rules; change them with holdfast incident ack|contain|resolve (POST .../incidents/NAME/acknowledge|contain|resolve)" }],
    ["NotificationChannel", channelAdmitter],
    ["SecuritySignal", { readOnly: "security signals are written by the Holdfast control plane only" }],
    ["DetectionState", { readOnly: "the detection state is written by the Holdfast control plane only" }],
  ];
}
