// Node-only helpers: a bundle folder on disk as a source, and the runtimes by name.
//   tfjs-cpu, tfjs-wasm: @tensorflow/tfjs (+ @tensorflow/tfjs-backend-wasm)
//   onnx (onnxruntime-node), onnx-web (onnxruntime-web's wasm build, run in Node)

import { constants } from "node:fs";
import { open, realpath } from "node:fs/promises";
import { join, sep } from "node:path";
import { BundleError, ONNX, ONNX_CONTEXT, TFJS_CONTEXT, checkBundlePath, openBundle } from "../contract/bundle.js";
import { openOnnx } from "./onnx.js";
import { openTfjs, setBackend } from "./tfjs.js";

export const RUNTIMES = ["tfjs-cpu", "tfjs-wasm", "onnx", "onnx-web"];

/**
 * A bundle folder on disk.  `read(path, limit)` opens only regular files whose real path (symlinks resolved)
 * is inside the folder, non-blocking (a FIFO must not hang us), and reads at most `limit` bytes.
 */
export function dirSource(dir) {
  let root = null;
  return {
    name: dir,
    async read(path, limit) {
      checkBundlePath(path);
      const shown = JSON.stringify(path);
      let handle;
      try {
        root ??= await realpath(dir);
        const real = await realpath(join(root, path));
        if (!real.startsWith(root + sep)) throw new BundleError(`${shown}: resolves outside the bundle (a symlink?); re-export the bundle`);
        handle = await open(real, constants.O_RDONLY | constants.O_NONBLOCK);
        const info = await handle.stat();
        if (!info.isFile()) throw new BundleError(`${shown}: not a regular file; re-export the bundle`);
        if (info.size > limit) throw new BundleError(`${shown}: ${info.size} bytes, over the ${limit} expected (replaced? re-export the bundle)`);
        const bytes = new Uint8Array(info.size);
        let done = 0;
        while (done < info.size) {
          const { bytesRead } = await handle.read(bytes, done, info.size - done, done);
          if (bytesRead === 0) break;
          done += bytesRead;
        }
        return bytes.subarray(0, done);
      } catch (err) {
        if (err instanceof BundleError) throw err;
        throw new BundleError(`${shown}: cannot be read from bundle ${JSON.stringify(dir)} (${err.code ?? err.message})`);
      } finally {
        await handle?.close();
      }
    },
  };
}

export async function openDir(dir) {
  return openBundle(dirSource(dir));
}

/**
 * Open runtime `name` on an opened bundle; returns an adapter with probs()/outputs().  `head`: the bundle's
 * context head (model.context.onnx / tfjs/context.json) instead of the text path.  `fast: false` keeps every
 * call on the whole window (no padding fast path: model.onnx, the whole TF.js model).
 */
export async function openRuntime(name, bundle, { onnxFile = ONNX, fast = true, head = false } = {}) {
  if (head) onnxFile = ONNX_CONTEXT;
  if (name === "tfjs-cpu" || name === "tfjs-wasm") {
    const tf = await import("@tensorflow/tfjs");
    if (name === "tfjs-wasm") await import("@tensorflow/tfjs-backend-wasm");
    await setBackend(tf, name.slice(5));
    return openTfjs(tf, bundle, head ? TFJS_CONTEXT : undefined, { fast });
  }
  if (name === "onnx") {
    const ort = await import("onnxruntime-node");
    return openOnnx(ort.default ?? ort, bundle, { file: onnxFile, executionProviders: ["cpu"], name: "onnxruntime-node", fast });
  }
  if (name === "onnx-web") {
    const ort = await import("onnxruntime-web");
    const mod = ort.default ?? ort;
    mod.env.wasm.numThreads = 1;
    return openOnnx(mod, bundle, { file: onnxFile, name: "onnxruntime-web (Node)", fast });
  }
  throw new Error(`unknown runtime ${JSON.stringify(name)}; one of ${RUNTIMES.join(", ")}`);
}
