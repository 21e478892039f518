/**
 * A complete Prometheus configuration for Holdfast (pure): one job for the API servers (HTTPS, Holdfast's CA, an API
 * token read from a file) and one for the database exporters, both discovered through `/monitoring/targets`.
 */
import { stringify } from "yaml";
import { TARGET_KIND_LABEL } from "./targets.ts";

/** What the configuration is made from. */
export interface PrometheusConfigInput {
  /** The API server URL Prometheus discovers targets from (`https://host:port`). */
  server: string;
  /** The file holding the API token of an account with the monitoring role (Prometheus reads it at every request). */
  tokenFile: string;
  /** Holdfast's CA certificate file. */
  caFile: string;
  /** Rule files to load (e.g. what `holdfast monitoring rules` printed). */
  ruleFiles: readonly string[];
  scrapeInterval: string;
  evaluationInterval: string;
}

/** The configuration as YAML. */
export function prometheusConfig(input: PrometheusConfigInput): string {
  const authorization = { type: "Bearer", credentials_file: input.tokenFile };
  const tls = { ca_file: input.caFile };
  const discovery = [{ url: `${input.server.replace(/\/+$/, "")}/monitoring/targets`, refresh_interval: input.scrapeInterval, authorization, tls_config: tls }];
  const keep = (kind: string): unknown[] => [
    { source_labels: [TARGET_KIND_LABEL], regex: kind, action: "keep" },
  ];
  const config = {
    global: { scrape_interval: input.scrapeInterval, evaluation_interval: input.evaluationInterval },
    ...(input.ruleFiles.length === 0 ? {} : { rule_files: [...input.ruleFiles] }),
    scrape_configs: [
      { job_name: "holdfast", scheme: "https", metrics_path: "/metrics", authorization, tls_config: tls, http_sd_configs: discovery, relabel_configs: keep("apiserver") },
      { job_name: "holdfast-exporters", scheme: "http", metrics_path: "/metrics", http_sd_configs: discovery, relabel_configs: keep("exporter") },
    ],
  };
  return stringify(config, { lineWidth: 0, aliasDuplicateObjects: false });
}
