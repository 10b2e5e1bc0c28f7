// What the Node command-line tools (cli.mjs, train.mjs) share: user errors as one line on stderr with exit
// status 2, control characters escaped on a terminal, integer flags checked.

export class UsageError extends Error {}

/** Control characters written to a terminal could forge output: escape them there (files get the exact text). */
export function forTerminal(text) {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (c) =>
    `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** `text` as an integer of at least `low` (null: any, as a BigInt for --seed); a UsageError naming `flag` if not. */
export function integer(flag, text, low = null) {
  const ok = /^-?\d+$/.test(text.trim()) && (low === null || (Number.isSafeInteger(Number(text)) && Number(text) >= low));
  if (!ok) {
    const atLeast = low === null ? "" : ` of at least ${low}`;
    throw new UsageError(`${flag} must be an integer${atLeast}, got ${JSON.stringify(text)}`);
  }
  return flag === "--seed" ? BigInt(text.trim()) : Number(text);
}

/**
 * Run `main(argv)`; any error it throws ends the process with one line on stderr and exit status 2
 * (`rewrite` turns a shared module's wording into this tool's flags).  A reader that goes away (`| head`)
 * ends the run quietly.
 */
export async function runMain(main, rewrite = (message) => message) {
  process.stdout.on("error", (err) => process.exit(err.code === "EPIPE" ? 0 : 1));
  try {
    await main(process.argv.slice(2));
  } catch (err) {
    const hint = err instanceof UsageError ? " (see --help)" : "";
    process.stderr.write(`error: ${rewrite(forTerminal(String(err?.message ?? err)).split("\n")[0])}${hint}\n`);
    process.exit(2);
  }
}
