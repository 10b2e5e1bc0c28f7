// Node-only helpers: a bundle folder on disk as a source, and the runtimes by name.
//   tfjs-cpu, tfjs-wasm: @tensorflow/tfjs (+ @tensorflow/tfjs-backend-wasm)
//   onnx (onnxruntime-node), onnx-web (onnxruntime-web's wasm build, run in Node)

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { BundleError, openBundle } from "../spec/bundle.js";
import { openOnnx } from "./onnx.js";
import { openTfjs, setBackend } from "./tfjs.js";

export const RUNTIMES = ["tfjs-cpu", "tfjs-wasm", "onnx", "onnx-web"];

export function dirSource(dir) {
  return {
    name: dir,
    async read(path) {
      try {
        return new Uint8Array(await readFile(join(dir, path)));
      } catch (err) {
        throw new BundleError(`${path}: cannot be read from bundle ${dir} (${err.code ?? err.message})`);
      }
    },
  };
}

export async function openDir(dir) {
  return openBundle(dirSource(dir));
}

/** Open runtime `name` on an opened bundle; returns an adapter with probs()/outputs(). */
export async function openRuntime(name, bundle, { onnxFile = "model.onnx" } = {}) {
  if (name === "tfjs-cpu" || name === "tfjs-wasm") {
    const tf = await import("@tensorflow/tfjs");
    if (name === "tfjs-wasm") await import("@tensorflow/tfjs-backend-wasm");
    await setBackend(tf, name.slice(5));
    return openTfjs(tf, bundle);
  }
  if (name === "onnx") {
    const ort = await import("onnxruntime-node");
    return openOnnx(ort.default ?? ort, bundle, { file: onnxFile, executionProviders: ["cpu"], name: "onnxruntime-node" });
  }
  if (name === "onnx-web") {
    const ort = await import("onnxruntime-web");
    const mod = ort.default ?? ort;
    mod.env.wasm.numThreads = 1;
    return openOnnx(mod, bundle, { file: onnxFile, name: "onnxruntime-web (Node)" });
  }
  throw new Error(`unknown runtime ${JSON.stringify(name)}; one of ${RUNTIMES.join(", ")}`);
}
