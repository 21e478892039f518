import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parse } from "yaml";
import { prometheusRuleObjectSchema } from "../api/index.ts";
import { prometheusConfig } from "./prometheus-config.ts";
import { ruleFile } from "./rules.ts";

const EXAMPLES = join(import.meta.dirname, "..", "..", "..", "shared", "kubeblocks-examples");

describe("ruleFile", () => {
  it("serves the KubeBlocks PostgreSQL and Redis alert rules as one rule file, groups named by their object", async () => {
    const objects = await Promise.all(
      ["postgresql", "redis"].map(async (engine) => {
        const manifest = parse(await readFile(join(EXAMPLES, engine, "alert-rules.yaml"), "utf8")) as { metadata: Record<string, unknown> };
        return prometheusRuleObjectSchema.parse({ ...manifest, metadata: { ...manifest.metadata, namespace: "demo" } });
      }),
    );
    const file = parse(ruleFile(objects)) as { groups: { name: string; rules: { alert?: string; expr: unknown }[] }[] };
    assert.ok(file.groups.some((group) => group.name === "demo/postgresql-alert-rules/PostgreSQLExporter"));
    const down = file.groups.flatMap((group) => group.rules).find((rule) => rule.alert === "PostgreSQLDown");
    assert.equal(down?.expr, "max_over_time(pg_up[1m]) == 0");
    assert.ok(file.groups.flatMap((group) => group.rules).every((rule) => typeof rule.expr === "string"));
  });

  it("refuses a rule that is neither or both an alert and a record, and a bad duration", () => {
    const rule = (r: Record<string, unknown>) => ({ apiVersion: "monitoring.coreos.com/v1", kind: "PrometheusRule", metadata: { name: "r" }, spec: { groups: [{ name: "g", rules: [r] }] } });
    assert.equal(prometheusRuleObjectSchema.safeParse(rule({ expr: "up == 0" })).success, false);
    assert.equal(prometheusRuleObjectSchema.safeParse(rule({ alert: "A", record: "b", expr: "up" })).success, false);
    assert.equal(prometheusRuleObjectSchema.safeParse(rule({ alert: "A", expr: "up == 0", for: "2 minutes" })).success, false);
    assert.equal(prometheusRuleObjectSchema.safeParse(rule({ alert: "A", expr: "up == 0", for: "1h30m" })).success, true);
  });
});

describe("prometheusConfig", () => {
  it("scrapes the API servers over verified HTTPS with the token file, and the exporters, both through the targets endpoint", () => {
    const config = parse(prometheusConfig({ server: "https://127.0.0.1:7420/", tokenFile: "/etc/p/token", caFile: "/etc/p/ca.crt", ruleFiles: ["/etc/p/rules.yml"], scrapeInterval: "5s", evaluationInterval: "5s" })) as Record<string, any>;
    assert.deepEqual(config["rule_files"], ["/etc/p/rules.yml"]);
    const [api, exporters] = config["scrape_configs"] as [Record<string, any>, Record<string, any>];
    assert.equal(api["scheme"], "https");
    assert.deepEqual(api["authorization"], { type: "Bearer", credentials_file: "/etc/p/token" });
    assert.deepEqual(api["tls_config"], { ca_file: "/etc/p/ca.crt" });
    assert.equal(api["http_sd_configs"][0].url, "https://127.0.0.1:7420/monitoring/targets");
    assert.equal(api["http_sd_configs"][0].authorization.credentials_file, "/etc/p/token");
    assert.equal(exporters["scheme"], "http");
    assert.equal(exporters["authorization"], undefined, "the token is never sent to an exporter");
    assert.deepEqual(exporters["relabel_configs"][0], { source_labels: ["__meta_holdfast_target"], regex: "exporter", action: "keep" });
  });
});
