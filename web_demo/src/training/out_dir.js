// Writing a trained model's folder in Node (train.mjs --out DIR), by the rules textgen_export/files/ follows:
// only a folder that is new, empty, or provably ours (our manifest.json, naming our format and listing every
// other file in it) is replaced, and as a whole: the files are written into a fresh sibling folder that is then
// renamed into place, so DIR never holds half a model.

import { lstat, mkdir, readFile, readdir, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { MANIFEST, TRAINED_FORMAT } from "../contract/bundle.js";

/** Every file under `dir` (relative paths with "/"); anything not a plain file or folder is listed as itself. */
async function tree(dir, prefix = "") {
  const out = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const rel = prefix + entry.name;
    if (entry.isDirectory()) out.push(...(await tree(join(dir, entry.name), rel + "/")));
    else out.push(rel);
  }
  return out;
}

/** Throws (one line) unless `out` may be written: absent, an empty folder, or a trained model we wrote. */
export async function checkOut(out) {
  const path = resolve(out);
  let info;
  try {
    info = await lstat(path);
  } catch (err) {
    if (err.code === "ENOENT") {
      try {
        if (!(await lstat(dirname(path))).isDirectory()) throw new Error("not a folder");
      } catch {
        throw new Error(`--out ${JSON.stringify(out)}: its parent folder does not exist; create it first`);
      }
      return;
    }
    throw new Error(`--out ${JSON.stringify(out)} cannot be checked (${err.code ?? err.message})`);
  }
  if (!info.isDirectory()) throw new Error(`--out ${JSON.stringify(out)} exists and is not a folder; choose a new or empty folder`);
  const found = await tree(path);
  if (!found.length) return;
  let listed = null;
  try {
    const manifest = JSON.parse(await readFile(join(path, MANIFEST), "utf8"));
    if (manifest?.format === TRAINED_FORMAT && manifest.files && typeof manifest.files === "object") listed = new Set(Object.keys(manifest.files));
  } catch {
    listed = null;
  }
  const foreign = listed === null ? found : found.filter((rel) => rel !== MANIFEST && !listed.has(rel));
  if (foreign.length) {
    const what = listed === null ? "is not a trained model this command wrote (no manifest.json of ours)" : `holds files that are not ours (${JSON.stringify(foreign[0])})`;
    throw new Error(`--out ${JSON.stringify(out)} ${what}; choose a new or empty folder (a trained model's folder is replaced as a whole)`);
  }
}

/** Write `files` (Map path -> bytes) as folder `out`, replacing it as a whole (after checkOut). */
export async function writeTrained(out, files) {
  await checkOut(out); // again: the folder may have changed while training ran
  const path = resolve(out);
  const staging = join(dirname(path), `.${basename(path)}.${process.pid}.writing`);
  const old = join(dirname(path), `.${basename(path)}.${process.pid}.old`);
  await rm(staging, { recursive: true, force: true });
  try {
    await mkdir(staging);
    for (const [rel, bytes] of files) {
      await mkdir(dirname(join(staging, rel)), { recursive: true });
      await writeFile(join(staging, rel), bytes);
    }
    let replaced = false;
    try {
      await rename(path, old);
      replaced = true;
    } catch (err) {
      if (err.code !== "ENOENT") throw err;
    }
    await rename(staging, path);
    if (replaced) await rm(old, { recursive: true, force: true });
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw new Error(`--out ${JSON.stringify(out)} could not be written (${err.code ?? err.message})`);
  }
}
