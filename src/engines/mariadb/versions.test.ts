import { test } from "node:test";
import assert from "node:assert/strict";
import { matchVersion } from "../version.ts";
import { parseMariadbVersion } from "./versions.ts";

void test("parses mariadbd --version; the release series is the major", () => {
  const version = parseMariadbVersion("/usr/sbin/mariadbd  Ver 10.11.18-MariaDB-0+deb12u1 for debian-linux-gnu on x86_64 (Debian 12)", "/usr/sbin");
  assert.deepEqual(version, { version: "10.11.18", major: "10.11", binDir: "/usr/sbin" });
  assert.equal(parseMariadbVersion("mysqld  Ver 8.0.35 for Linux on x86_64 (MySQL Community Server - GPL)", "/usr/sbin"), undefined, "MySQL's server is not MariaDB");
  assert.equal(parseMariadbVersion("", "/usr/sbin"), undefined);
});

void test("serviceVersion 10.11, 10.11.18 and 10 pick the installed release; 8.0.35 does not", () => {
  const installed = [{ version: "10.11.18", major: "10.11", binDir: "/usr/sbin" }];
  for (const requested of ["10.11", "10.11.18", "10", undefined]) assert.equal(matchVersion(requested, installed)?.version, "10.11.18");
  assert.equal(matchVersion("8.0.35", installed), undefined);
  assert.equal(matchVersion("11.4", installed), undefined);
});
