import { test } from "node:test";
import assert from "node:assert/strict";
import { CliError, UsageError } from "./args.ts";
import { ApiError, ServerUnreachableError } from "./client.ts";
import { describeError, formatAge, formatApiError, formatTable, humanDuration } from "./output.ts";

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

test("humanDuration matches kubectl's HumanDuration at its boundaries", () => {
  const cases: [number, string][] = [
    [-5 * S, "<invalid>"],
    [-500, "0s"],
    [0, "0s"],
    [45 * S, "45s"],
    [119 * S, "119s"],
    [2 * M, "2m"],
    [5 * M + 30 * S, "5m30s"],
    [10 * M + 30 * S, "10m"],
    [179 * M, "179m"],
    [3 * H, "3h"],
    [3 * H + 20 * M, "3h20m"],
    [8 * H + 20 * M, "8h"],
    [47 * H, "47h"],
    [2 * D, "2d"],
    [2 * D + 4 * H, "2d4h"],
    [8 * D + 4 * H, "8d"],
    [400 * D, "400d"],
    [2 * 365 * D + 30 * D, "2y30d"],
    [9 * 365 * D, "9y"],
  ];
  for (const [ms, expected] of cases) assert.equal(humanDuration(ms), expected, `${ms} ms`);
});

test("formatAge measures from a timestamp and tolerates absent ones", () => {
  const now = new Date("2025-01-02T00:00:00Z");
  assert.equal(formatAge("2025-01-01T23:55:00Z", now), "5m");
  assert.equal(formatAge(undefined, now), "<unknown>");
  assert.equal(formatAge("yesterday", now), "<unknown>");
});

test("formatTable pads columns three spaces apart and keeps cells on one line", () => {
  const table = formatTable(["NAME", "STATUS", "AGE"], [["pg", "Running", "5m"], ["a-longer-name", "multi\n  line", "2d"]]);
  assert.equal(table, ["NAME            STATUS       AGE", "pg              Running      5m", "a-longer-name   multi line   2d", ""].join("\n"));
});

test("formatApiError prints the reason, the message and one line per field cause", () => {
  const error = new ApiError(422, "Invalid", 'Cluster.apps.kubeblocks.io "pg" is invalid', [
    { field: "spec.componentSpecs[0].replicas", message: "must be 0 or more" },
    { message: "no field" },
  ]);
  assert.equal(
    formatApiError(error),
    'Error from server (Invalid): Cluster.apps.kubeblocks.io "pg" is invalid\n  spec.componentSpecs[0].replicas: must be 0 or more\n  no field\n',
  );
});

test("describeError maps usage errors to 2 and everything else to 1", () => {
  const usage = describeError(new UsageError("unknown flag --x", "get"));
  assert.equal(usage.exitCode, 2);
  assert.match(usage.text, /holdfast get --help/);
  assert.equal(describeError(new ApiError(404, "NotFound", "nope")).exitCode, 1);
  assert.equal(describeError(new CliError("bad")).text, "error: bad\n");
  const unreachable = describeError(new ServerUnreachableError("http://127.0.0.1:7420", "connection refused"));
  assert.equal(unreachable.exitCode, 1);
  assert.match(unreachable.text, /holdfast server --detach/);
});
