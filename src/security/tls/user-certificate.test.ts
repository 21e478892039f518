import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTlsMaterial, issueInstanceCertificate, tlsPaths, type TlsPaths } from "./certificates.ts";
import type { Secret } from "../../api/index.ts";
import { checkUserTlsSecret, userCertificateProblems, userTlsFiles, type UserTlsMaterial } from "./user-certificate.ts";

const KEYS = { ca: "ca.crt", cert: "tls.crt", key: "tls.key" };
const DAY_MS = 86_400_000;
const NOW = new Date();

let home: string;
let ours: TlsPaths;
let theirs: TlsPaths;

before(async () => {
  home = await mkdtemp(join(tmpdir(), "hf-user-tls-"));
  ours = tlsPaths(join(home, "ours"));
  theirs = tlsPaths(join(home, "theirs"));
  await createTlsMaterial(ours);
  await createTlsMaterial(theirs);
});

after(async () => {
  await rm(home, { recursive: true, force: true });
});

/** A certificate of `paths`' CA for `names` (127.0.0.1, ::1 and localhost are always in it), issued at `at`. */
async function material(paths: TlsPaths, names: string[], at = NOW): Promise<UserTlsMaterial> {
  const issued = await issueInstanceCertificate(paths, "pg-0", names, at);
  return { ca: issued.ca, cert: issued.cert, key: issued.key };
}

describe("userCertificateProblems", () => {
  test("a certificate of the CA, with its key, time left and every name, has no problem", async () => {
    assert.deepEqual(userCertificateProblems(await material(ours, ["10.0.0.1", "db.example"]), KEYS, ["127.0.0.1", "10.0.0.1", "db.example"], NOW), []);
  });

  test("a key that is not the certificate's is refused, without a byte of either key in the message", async () => {
    const good = await material(ours, ["10.0.0.1"]);
    const other = await material(ours, ["10.0.0.1"]);
    const problems = userCertificateProblems({ ...good, key: other.key }, KEYS, ["10.0.0.1"], NOW);
    assert.deepEqual(problems, ["tls.key is not the private key of tls.crt (their public keys differ)"]);
    const body = (pem: string): string => pem.split("\n")[1] ?? "";
    assert.ok(!problems.join("").includes(body(other.key)) && !problems.join("").includes(body(good.key)));
    assert.deepEqual(userCertificateProblems({ ...good, key: "not a key" }, KEYS, ["10.0.0.1"], NOW), ["tls.key holds no unencrypted PEM private key that parses"]);
  });

  test("an expired certificate is refused with its end date", async () => {
    const old = await material(ours, ["10.0.0.1"], new Date(NOW.getTime() - 900 * DAY_MS));
    const problems = userCertificateProblems(old, KEYS, ["10.0.0.1"], NOW);
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? "", /^tls\.crt expired on \d{4}-\d\d-\d\dT/);
  });

  test("a missing address is named, and only the missing ones", async () => {
    const problems = userCertificateProblems(await material(ours, ["10.0.0.1"]), KEYS, ["127.0.0.1", "10.0.0.1", "10.0.0.2", "db.example"], NOW);
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? "", /^tls\.crt does not name 10\.0\.0\.2, db\.example in its subjectAltName/);
  });

  test("a certificate of another CA than the Secret's is refused", async () => {
    const foreign = await material(theirs, ["10.0.0.1"]);
    const problems = userCertificateProblems({ ...foreign, ca: await readFile(ours.caCertificate, "utf8") }, KEYS, ["10.0.0.1"], NOW);
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? "", /^tls\.crt is not signed by a CA of ca\.crt/);
    // A bundle holding that CA among others is enough.
    const bundle = `${await readFile(ours.caCertificate, "utf8")}${foreign.ca}`;
    assert.deepEqual(userCertificateProblems({ ...foreign, ca: bundle }, KEYS, ["10.0.0.1"], NOW), []);
  });

  test("texts that are not PEM certificates are named by their keys", async () => {
    const good = await material(ours, []);
    assert.deepEqual(userCertificateProblems({ ...good, cert: "" }, { ca: "root.pem", cert: "server.pem", key: "server-key.pem" }, [], NOW), ["server.pem holds no PEM certificate that parses"]);
    assert.deepEqual(userCertificateProblems({ ...good, ca: "junk" }, KEYS, [], NOW), ["ca.crt holds no PEM CA certificate that parses"]);
  });
});

describe("checkUserTlsSecret and userTlsFiles", () => {
  const tls = { issuer: "UserProvided" as const, secretName: "pg-tls", ca: "ca.crt", cert: "tls.crt", key: "tls.key" };
  const check = { namespace: "demo", names: ["127.0.0.1"], now: NOW };
  const secretOf = (data: Record<string, string>): Secret => ({ apiVersion: "v1", kind: "Secret", metadata: { name: "pg-tls", namespace: "demo" }, data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString("base64")])) }) as Secret;

  test("a missing Secret or missing keys are named", async () => {
    assert.deepEqual(checkUserTlsSecret(undefined, tls, check), { problems: ["secret demo/pg-tls does not exist; create it with the keys ca.crt, tls.crt and tls.key"] });
    const good = await material(ours, []);
    assert.deepEqual(checkUserTlsSecret(secretOf({ "tls.crt": good.cert }), tls, check), { problems: ["secret demo/pg-tls has no key ca.crt, tls.key"] });
  });

  test("the files served: the Secret's certificate and key, and its CA followed by the cluster CA", async () => {
    const good = await material(theirs, []);
    const clusterCa = await readFile(ours.caCertificate, "utf8");
    const outcome = userTlsFiles(secretOf({ "ca.crt": good.ca, "tls.crt": good.cert, "tls.key": good.key }), tls, { ...check, clusterCa });
    assert.ok("files" in outcome);
    assert.deepEqual(outcome.files, { cert: good.cert, key: good.key, ca: `${good.ca.trimEnd()}\n${clusterCa}` });
  });
});
