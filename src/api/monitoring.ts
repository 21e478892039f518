/**
 * The Prometheus Operator's kinds that KubeBlocks' examples ship (monitoring.coreos.com/v1): PodMonitor and
 * ServiceMonitor select which instances' exporters are scraped and how they are labelled (served as the targets of
 * `/monitoring/targets`); PrometheusRule holds alerting and recording rules (served as the rule file of
 * `/monitoring/rules`). Fields a Prometheus scrape configuration has no room for are accepted and reported as not
 * honoured.
 */
import { z } from "zod";
import { labelSelectorSchema } from "./backup-policy.ts";
import { metadataSchema } from "./common.ts";
import { notHonoured } from "./field-support.ts";

/** The API group of the monitoring kinds. */
export const MONITORING_GROUP = "monitoring.coreos.com";
/** Their apiVersion. */
export const MONITORING_API_VERSION = `${MONITORING_GROUP}/v1`;
/** The port name of an instance's exporter, as KubeBlocks names its metrics container port. */
export const EXPORTER_PORT_NAME = "http-metrics";

/** A Prometheus duration: `30s`, `1m`, `1h30m` (units ms, s, m, h, d, w, y, largest first). */
export function isPrometheusDuration(value: string): boolean {
  return /^[0-9]/.test(value) && value.replace(/[0-9]+(ms|s|m|h|d|w|y)/g, "") === "";
}

const duration = z.string().refine(isPrometheusDuration, "must be a Prometheus duration such as 30s, 1m or 1h30m");

/** Which namespaces a monitor looks in: any, the ones named, or (neither) its own. */
export const namespaceSelectorSchema = z.looseObject({
  any: z.boolean().optional(),
  matchNames: z.array(z.string()).optional(),
});

const relabelingNote = "not applied: Holdfast serves targets already labelled; relabel in the Prometheus scrape configuration";

/** One endpoint of a monitor: which port of the selected instances, and how to scrape it. */
export const monitorEndpointSchema = z.looseObject({
  /** `http-metrics`: the instance's exporter (the only port Holdfast exposes for scraping). */
  port: z.string().optional(),
  path: z.string().startsWith("/", "must start with /").optional(),
  scheme: z.enum(["http", "https"]).optional(),
  interval: duration.optional(),
  scrapeTimeout: duration.optional(),
  honorLabels: z.boolean().optional(),
  relabelings: notHonoured(z.array(z.unknown()), relabelingNote).optional(),
  metricRelabelings: notHonoured(z.array(z.unknown()), relabelingNote).optional(),
});

const monitorFields = {
  jobLabel: z.string().optional(),
  namespaceSelector: namespaceSelectorSchema.optional(),
  selector: labelSelectorSchema,
  sampleLimit: notHonoured(z.int(), "not applied: set sample_limit in the Prometheus scrape configuration").optional(),
};

/** PodMonitor: scrape the exporters of the instances (Holdfast's pods) its selector matches. */
export const podMonitorSchema = z.object({
  apiVersion: z.literal(MONITORING_API_VERSION),
  kind: z.literal("PodMonitor"),
  metadata: metadataSchema,
  spec: z.looseObject({
    ...monitorFields,
    podTargetLabels: z.array(z.string()).optional(),
    podMetricsEndpoints: z.array(monitorEndpointSchema).min(1, "list at least one endpoint, e.g. {port: http-metrics}"),
  }),
});

/** ServiceMonitor: the same selection through the labels the cluster's services share with its instances. */
export const serviceMonitorSchema = z.object({
  apiVersion: z.literal(MONITORING_API_VERSION),
  kind: z.literal("ServiceMonitor"),
  metadata: metadataSchema,
  spec: z.looseObject({
    ...monitorFields,
    targetLabels: z.array(z.string()).optional(),
    podTargetLabels: z.array(z.string()).optional(),
    endpoints: z.array(monitorEndpointSchema).min(1, "list at least one endpoint, e.g. {port: http-metrics}"),
  }),
});

/** One alerting or recording rule, as in a Prometheus rule file. */
export const prometheusRuleSchema = z
  .looseObject({
    alert: z.string().min(1).optional(),
    record: z.string().min(1).optional(),
    expr: z.union([z.string().min(1), z.number()]),
    for: duration.optional(),
    keep_firing_for: duration.optional(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  })
  .refine((rule) => (rule.alert === undefined) !== (rule.record === undefined), { error: "a rule is either an alert or a record, exactly one of them" });

/** PrometheusRule: groups of rules, served together as one Prometheus rule file. */
export const prometheusRuleObjectSchema = z.object({
  apiVersion: z.literal(MONITORING_API_VERSION),
  kind: z.literal("PrometheusRule"),
  metadata: metadataSchema,
  spec: z.looseObject({
    groups: z.array(
      z.looseObject({
        name: z.string().min(1, "must not be empty"),
        interval: duration.optional(),
        limit: z.int().optional(),
        rules: z.array(prometheusRuleSchema),
      }),
    ),
  }),
});

export type MonitorEndpoint = z.infer<typeof monitorEndpointSchema>;
export type PodMonitor = z.infer<typeof podMonitorSchema>;
export type ServiceMonitor = z.infer<typeof serviceMonitorSchema>;
export type PrometheusRule = z.infer<typeof prometheusRuleObjectSchema>;
