/** Base32 (RFC 4648 section 6), the encoding authenticator apps expect for TOTP secrets. */
import { InvalidError } from "../../errors/index.ts";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** Encode bytes as RFC 4648 base32; `padding` adds the trailing `=` to a multiple of 8 characters. */
export function base32Encode(bytes: Uint8Array, padding = true): string {
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = ((buffer << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET.charAt((buffer >>> (bits - 5)) & 31);
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET.charAt((buffer << (5 - bits)) & 31);
  return padding ? out.padEnd(Math.ceil(out.length / 8) * 8, "=") : out;
}

/** Decode RFC 4648 base32, case-insensitive, with or without padding; spaces are ignored as apps show secrets grouped. */
export function base32Decode(text: string): Buffer {
  const clean = text.replace(/\s+/g, "").replace(/=+$/, "").toUpperCase();
  const out: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const char of clean) {
    const value = ALPHABET.indexOf(char);
    if (value < 0) throw new InvalidError("not a base32 string: use only the letters A-Z and the digits 2-7");
    buffer = ((buffer << 5) | value) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((buffer >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}
