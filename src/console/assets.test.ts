import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { brotliDecompressSync, gunzipSync, zstdDecompressSync } from "node:zlib";
import { chooseEncoding, loadConsoleAssets, toJavaScript } from "./index.ts";

describe("the console's files", () => {
  it("erase types and point relative imports at .js", () => {
    const js = toJavaScript('import { a } from "./model.ts";\nimport type { B } from "../b.ts";\nexport const x: number = a as number;\n');
    assert.match(js, /from "\.\/model\.js"/);
    assert.doesNotMatch(js, /\.ts"/);
    assert.doesNotMatch(js, /: number|as number|import type/);
  });

  it("are versioned, preloaded from the page, and stored compressed three ways", async () => {
    const assets = await loadConsoleAssets();
    const page = assets.files.get("index.html")?.body.toString() ?? "";
    assert.ok(page.includes(`src="v/${assets.version}/main.js"`), page);
    assert.ok(page.includes(`rel="modulepreload" href="v/${assets.version}/pages/cluster.js"`), page);
    assert.doesNotMatch(page, /<script>|\son\w+=/, "no inline script or handler");
    const main = assets.files.get(`v/${assets.version}/main.js`);
    assert.ok(main);
    assert.equal(main.mediaType, "text/javascript; charset=utf-8");
    assert.deepEqual(brotliDecompressSync(main.encoded.br), main.body);
    assert.deepEqual(gunzipSync(main.encoded.gzip), main.body);
    assert.deepEqual(zstdDecompressSync(main.encoded.zstd), main.body);
    assert.ok(![...assets.files.keys()].some((k) => k.endsWith(".ts") || k.endsWith("tsconfig.json")));
  });

  it("are sent in the best coding the browser accepts", () => {
    assert.equal(chooseEncoding("gzip, deflate, br, zstd"), "br");
    assert.equal(chooseEncoding("gzip, zstd"), "zstd");
    assert.equal(chooseEncoding("br;q=0, gzip"), "gzip");
    assert.equal(chooseEncoding("identity"), undefined);
    assert.equal(chooseEncoding(undefined), undefined);
    assert.equal(chooseEncoding("*"), "br");
  });
});
