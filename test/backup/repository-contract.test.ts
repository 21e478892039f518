// One suite, two repositories: the local directory and an S3 bucket on a real S3-API server (s3rver) on loopback.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ForbiddenError, InvalidError, NotFoundError } from "../../src/errors/index.ts";
import { LocalRepository, S3Repository, type BackupRepository } from "../../src/backup/index.ts";
import { collect } from "./backup-fixture.ts";
import { startS3Server, type S3TestServer } from "./s3-server.ts";

interface Subject {
  repository: BackupRepository;
  stop(): Promise<void>;
}

const subjects: Record<string, () => Promise<Subject>> = {
  local: async () => {
    const directory = await mkdtemp(join(tmpdir(), "holdfast-repo-contract-"));
    return { repository: await LocalRepository.open(join(directory, "repo")), stop: () => rm(directory, { recursive: true, force: true }) };
  },
  s3: async () => {
    const server = await startS3Server();
    // A low multipart threshold so the 12 MiB object below goes up in three parts.
    return { repository: s3Repository(server, { prefix: "holdfast/test", multipartThreshold: 6 << 20, partSize: 5 << 20 }), stop: () => server.stop() };
  },
};

function s3Repository(server: S3TestServer, extra: Partial<ConstructorParameters<typeof S3Repository>[0]> = {}): S3Repository {
  return new S3Repository({
    endpoint: server.endpoint,
    region: "us-east-1",
    bucket: server.bucket,
    accessKeyId: server.accessKeyId,
    secretAccessKey: server.secretAccessKey,
    ...extra,
  });
}

async function keys(repository: BackupRepository, prefix: string): Promise<string[]> {
  return (await collect(repository.list(prefix))).map((object) => object.key).sort();
}

for (const [name, make] of Object.entries(subjects)) {
  describe(`${name} repository`, () => {
    let subject: Subject;
    before(async () => {
      subject = await make();
    });
    after(() => subject.stop());

    test("put then get returns the same bytes; put replaces", async () => {
      const { repository } = subject;
      const body = randomBytes(100_000);
      await repository.put("data/b1/s/0000/00000000", body);
      assert.ok((await repository.get("data/b1/s/0000/00000000")).equals(body));
      await repository.put("data/b1/s/0000/00000000", Buffer.from("replaced"));
      assert.equal((await repository.get("data/b1/s/0000/00000000")).toString(), "replaced");
      await repository.put("empty", Buffer.alloc(0));
      assert.equal((await repository.get("empty")).length, 0);
    });

    test("a large object (multipart on S3) round-trips", async () => {
      const body = randomBytes(12 << 20);
      await subject.repository.put("large/object", body);
      assert.ok((await subject.repository.get("large/object")).equals(body));
      await subject.repository.delete("large/object");
    });

    test("get of a missing object is NotFoundError; maxBytes refuses a larger object", async () => {
      await assert.rejects(subject.repository.get("nothing/here"), NotFoundError);
      await subject.repository.put("sized", Buffer.alloc(100));
      await assert.rejects(subject.repository.get("sized", { maxBytes: 99 }), InvalidError);
      assert.equal((await subject.repository.get("sized", { maxBytes: 100 })).length, 100);
    });

    test("list returns keys under a prefix with size and time, and nothing else", async () => {
      const { repository } = subject;
      const started = Date.now() - 5_000;
      for (const key of ["list/a/1", "list/a/2", "list/ab/3", "list/b/4", "listing/5"]) await repository.put(key, Buffer.from(key));
      assert.deepEqual(await keys(repository, "list/a/"), ["list/a/1", "list/a/2"]);
      assert.deepEqual(await keys(repository, "list/a"), ["list/a/1", "list/a/2", "list/ab/3"]);
      assert.deepEqual(await keys(repository, "list/"), ["list/a/1", "list/a/2", "list/ab/3", "list/b/4"]);
      assert.deepEqual(await keys(repository, "nope/"), []);
      const [object] = await collect(repository.list("list/b/"));
      assert.equal(object?.size, "list/b/4".length);
      assert.ok(object.lastModified.getTime() >= started && object.lastModified.getTime() <= Date.now() + 5_000);
    });

    test("list pages through more than one page of results", async () => {
      const { repository } = subject;
      const many = Array.from({ length: 1100 }, (_, i) => `page/${String(i).padStart(5, "0")}`);
      for (let i = 0; i < many.length; i += 50) await Promise.all(many.slice(i, i + 50).map((key) => repository.put(key, Buffer.from("x"))));
      assert.deepEqual(await keys(repository, "page/"), many);
    });

    test("delete removes; deleting a missing object succeeds", async () => {
      const { repository } = subject;
      await repository.put("gone/soon", Buffer.from("x"));
      await repository.delete("gone/soon");
      await assert.rejects(repository.get("gone/soon"), NotFoundError);
      await repository.delete("gone/soon");
      assert.deepEqual(await keys(repository, "gone/"), []);
    });

    test("keys that could escape or hide are refused", async () => {
      for (const key of ["", "/abs", "a//b", "../x", "a/../b", ".staging-x", "a/.hidden", "sp ace", "a/b/"]) {
        await assert.rejects(subject.repository.put(key, Buffer.from("x")), InvalidError, key);
      }
      await assert.rejects(collect(subject.repository.list("../")), InvalidError);
    });

    test("concurrent puts to different keys all land", async () => {
      const bodies = Array.from({ length: 16 }, (_, i) => randomBytes(1000 + i));
      await Promise.all(bodies.map((body, i) => subject.repository.put(`parallel/${i}`, body)));
      for (const [i, body] of bodies.entries()) assert.ok((await subject.repository.get(`parallel/${i}`)).equals(body));
    });

    test("sweeping incomplete uploads finds none after clean puts", async () => {
      assert.equal(await subject.repository.sweepIncompleteUploads(new Date(Date.now() + 60_000)), 0);
    });
  });
}

describe("local repository specifics", () => {
  test("stale staging files left by a crash are swept, fresh ones are kept, and neither is listed", async () => {
    const directory = await mkdtemp(join(tmpdir(), "holdfast-repo-staging-"));
    try {
      const repository = await LocalRepository.open(directory);
      await repository.put("data/x/1", Buffer.from("kept"));
      await writeFile(join(directory, "data", "x", ".staging-old"), "partial");
      await writeFile(join(directory, "data", "x", ".staging-new"), "partial");
      const old = new Date(Date.now() - 3_600_000);
      await utimes(join(directory, "data", "x", ".staging-old"), old, old);
      assert.deepEqual(await keys(repository, ""), ["data/x/1"]);
      assert.equal(await repository.sweepIncompleteUploads(new Date(Date.now() - 60_000)), 1);
      assert.deepEqual((await readdir(join(directory, "data", "x"))).sort(), [".staging-new", "1"]);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  test("a sweep under a writer session's prefix takes its staging files of any age and its emptied directory, nothing else", async () => {
    const directory = await mkdtemp(join(tmpdir(), "holdfast-repo-staging-"));
    try {
      const repository = await LocalRepository.open(directory);
      await repository.put("data/b/other/1", Buffer.from("kept"));
      await mkdir(join(directory, "data", "b", "dead"), { recursive: true });
      await writeFile(join(directory, "data", "b", "dead", ".staging-fresh"), "partial");
      await writeFile(join(directory, "data", "b", "other", ".staging-fresh"), "partial");
      assert.equal(await repository.sweepIncompleteUploads(new Date(Date.now() + 60_000), "data/b/dead/"), 1);
      assert.deepEqual(await readdir(join(directory, "data", "b")), ["other"]);
      assert.deepEqual((await readdir(join(directory, "data", "b", "other"))).sort(), [".staging-fresh", "1"]);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});

describe("S3 repository specifics", () => {
  let server: S3TestServer;
  before(async () => {
    server = await startS3Server("other-bucket");
  });
  after(() => server.stop());

  test("an unknown access key is ForbiddenError, a missing bucket NotFoundError, and neither message holds the secret", async () => {
    const secret = "SUPER-SECRET-VALUE-123";
    const wrongKey = s3Repository(server, { accessKeyId: "nobody", secretAccessKey: secret });
    await assert.rejects(wrongKey.put("x", Buffer.from("x")), (error: unknown) => error instanceof ForbiddenError && !error.message.includes(secret));
    const noBucket = s3Repository(server, { bucket: "no-such-bucket", secretAccessKey: secret });
    await assert.rejects(noBucket.get("x"), (error: unknown) => error instanceof NotFoundError && /bucket no-such-bucket does not exist/.test(error.message));
    assert.doesNotMatch(JSON.stringify(noBucket), new RegExp(secret));
  });

  test("prefixes keep repositories in one bucket apart", async () => {
    const a = s3Repository(server, { prefix: "team-a" });
    const b = s3Repository(server, { prefix: "team-b" });
    await a.put("manifests/x.json", Buffer.from("a"));
    await b.put("manifests/x.json", Buffer.from("b"));
    assert.equal((await a.get("manifests/x.json")).toString(), "a");
    assert.deepEqual(await keys(b, ""), ["manifests/x.json"]);
    assert.equal(a.location, "s3://other-bucket/team-a");
  });

  test("endpoints: plain http only on loopback unless allowed; no credentials or paths in the URL", () => {
    const base = { region: "us-east-1", bucket: "bucket", accessKeyId: "a", secretAccessKey: "b" };
    assert.throws(() => new S3Repository({ ...base, endpoint: "http://s3.example.com" }), /plain http/);
    assert.doesNotThrow(() => new S3Repository({ ...base, endpoint: "http://s3.example.com", allowHttp: true }));
    assert.doesNotThrow(() => new S3Repository({ ...base, endpoint: "https://s3.example.com" }));
    assert.throws(() => new S3Repository({ ...base, endpoint: "https://user:pw@s3.example.com" }), (error: unknown) => error instanceof InvalidError && !error.message.includes("pw"));
    assert.throws(() => new S3Repository({ ...base, endpoint: "ftp://s3.example.com" }), InvalidError);
    assert.throws(() => new S3Repository({ ...base, endpoint: "https://s3.example.com", bucket: "Bad_Bucket" }), InvalidError);
    assert.throws(() => new S3Repository({ ...base, endpoint: "https://s3.example.com", partSize: 1024 }), InvalidError);
  });
});
