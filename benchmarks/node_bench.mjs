// Benchmarks one Node runtime on one bundle: node node_bench.mjs JOB.json REPLY.json
// (the reply goes to a file: stdout to a pipe can be cut short by process.exit, and rows are ~MBs for big vocabularies).
// The job and reply formats are described in benchmarks/jsjob.py; the timing method, checks and
// cells are bench_core.mjs; runtimes and the sampler come from the web demo (node_runtimes.mjs binds them).
// One process per runtime, so load time and peak memory (sampled from Python) belong to that runtime alone.
import { readFileSync, writeFileSync } from "node:fs";
import { benchRuntime } from "./bench_core.mjs";
import { openNode } from "./node_runtimes.mjs";

const job = JSON.parse(readFileSync(process.argv[2], "utf-8"));
const row = { runtime: job.runtime, threads: String(job.threads), format: job.format, status: "failed", reason: "" };
try {
  const bound = await openNode(job);
  if (bound.unavailable) {
    row.status = "unavailable";
    row.reason = bound.unavailable;
  } else {
    await benchRuntime(job, row, { ...bound, log: (line) => console.error(line) });
  }
} catch (error) {
  row.status = "failed";
  row.reason = `${error?.name ?? "Error"}: ${String(error?.message ?? error).split("\n")[0].slice(0, 200)}`;
}
writeFileSync(process.argv[3], JSON.stringify(row));
process.exit(0); // wasm/ORT worker threads would otherwise keep the process alive
