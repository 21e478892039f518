/** Reading secrets from the terminal (echo off) or from standard input, never from argv. */
import { createInterface } from "node:readline";
import { Writable } from "node:stream";
import { text as readAll } from "node:stream/consumers";
import { CliError } from "./args.ts";

/** Ask on the terminal; `hidden` turns echo off (passwords). Fails clearly when there is no terminal. */
export async function ask(question: string, hidden: boolean): Promise<string> {
  if (!process.stdin.isTTY) throw new CliError(`${question.replace(/:\s*$/, "")} is needed and there is no terminal to ask on; pass it with a flag or --password-stdin`);
  let muted = false;
  const output = new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (!muted) process.stderr.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  process.stderr.write(question);
  muted = hidden;
  try {
    return await new Promise<string>((resolve) => rl.question("", resolve));
  } finally {
    rl.close();
    if (hidden) process.stderr.write("\n");
  }
}

/** The first line of standard input (for --password-stdin). */
export async function firstLineOfStdin(): Promise<string> {
  const all = await readAll(process.stdin);
  return all.split(/\r?\n/)[0] ?? "";
}
