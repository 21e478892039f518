import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { renderOtpauthQr } from "./otpauth-qr.ts";

describe("otpauth QR", () => {
  it("draws a square terminal QR code, larger for longer URIs", async () => {
    const short = await renderOtpauthQr("otpauth://totp/Holdfast:a?secret=AAAA");
    const long = await renderOtpauthQr(`otpauth://totp/Holdfast:alice?secret=${"A".repeat(32)}&issuer=Holdfast&algorithm=SHA1&digits=6&period=30`);
    const lines = long.trimEnd().split("\n");
    assert.ok(lines.length > 10);
    assert.match(long, /[█▀▄]/);
    assert.ok(long.length > short.length);
  });
});
