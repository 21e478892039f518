/** What a Prometheus is given: scrape targets (http_sd_configs), rule files, and a complete configuration. */
export { scrapeTargets, sanitizeLabelName, TARGET_KIND_LABEL, type TargetGroup, type TargetInput } from "./targets.ts";
export { ruleFile } from "./rules.ts";
export { prometheusConfig, type PrometheusConfigInput } from "./prometheus-config.ts";
