// The page's runtimes by name (twin of node.js for the browser), and what this browser offers of them.
//   tfjs-cpu, tfjs-wasm, tfjs-webgl, tfjs-webgpu: @tensorflow/tfjs (+ -backend-wasm, -backend-webgpu)
//   onnx-wasm, onnx-webgpu: onnxruntime-web (its WebAssembly build; its WebGPU build)
// Packages are imported on first use only, so a reader downloads what the runtimes they run need.

import { ONNX, ONNX_CONTEXT, TFJS_CONTEXT } from "../contract/bundle.js";
import { openOnnx } from "./onnx.js";
import { openTfjs, setBackend } from "./tfjs.js";

export const BROWSER_RUNTIMES = ["onnx-wasm", "onnx-webgpu", "tfjs-wasm", "tfjs-webgl", "tfjs-webgpu", "tfjs-cpu"];
export const LABELS = {
  "onnx-wasm": "ONNX Runtime Web · WebAssembly",
  "onnx-webgpu": "ONNX Runtime Web · WebGPU",
  "tfjs-wasm": "TF.js · WebAssembly",
  "tfjs-webgl": "TF.js · WebGL",
  "tfjs-webgpu": "TF.js · WebGPU",
  "tfjs-cpu": "TF.js · plain JavaScript",
};

// Relative to the page, so the same files work at / (textgen-export serve) and under any sub-path (a static site).
const pageUrl = (path) => new URL(path, document.baseURI).href;
const ORT_DIST = "node_modules/onnxruntime-web/dist/";

let tfModule = null;
const ortModules = {};

async function loadTf(backend) {
  if (!tfModule) tfModule = await import("@tensorflow/tfjs");
  const tf = tfModule;
  if (backend === "wasm" && !tf.findBackend("wasm")) {
    const wasm = await import("@tensorflow/tfjs-backend-wasm");
    wasm.setWasmPaths(pageUrl("node_modules/@tensorflow/tfjs-backend-wasm/dist/"));
    // The threaded build's workers importScripts() the backend, which fails for ES-module builds; one stream of
    // small matrices gains little from threads anyway, so use the single-threaded SIMD build.
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
  }
  if (backend === "webgpu" && !tf.findBackend("webgpu")) await import("@tensorflow/tfjs-backend-webgpu");
  await setBackend(tf, backend);
  return tf;
}

/** onnxruntime-web's WebAssembly build, or its WebGPU build (which also carries the wasm kernels). */
async function loadOrt(build) {
  if (!ortModules[build]) {
    const ort = build === "webgpu" ? await import("onnxruntime-web/webgpu") : await import("onnxruntime-web");
    ort.env.wasm.wasmPaths = pageUrl(ORT_DIST);
    ort.env.wasm.numThreads = 1; // one stream of small matrices: threads cost more than they give
    ortModules[build] = ort;
  }
  return ortModules[build];
}

/** Open runtime `name` on an opened bundle; returns an adapter with probs()/outputs()/dispose().  `head`: the
 * bundle's context head (model.context.onnx / tfjs/context.json) instead of the text path. */
export async function openBrowserRuntime(name, bundle, head = false) {
  if (name.startsWith("tfjs-")) return openTfjs(await loadTf(name.slice(5)), bundle, head ? TFJS_CONTEXT : undefined);
  const file = head ? ONNX_CONTEXT : ONNX;
  if (name === "onnx-wasm") return openOnnx(await loadOrt("wasm"), bundle, { name: "ONNX Runtime Web wasm", file });
  if (name === "onnx-webgpu") {
    // ORT warns (on the console, as an error) that it keeps shape ops on the CPU: by design, not a fault.
    const sessionOptions = { logSeverityLevel: 3 };
    return openOnnx(await loadOrt("webgpu"), bundle, { executionProviders: ["webgpu"], name: "ONNX Runtime Web WebGPU", sessionOptions, file });
  }
  throw new Error(`unknown runtime ${name}`);
}

/** The WebGL renderer string, or null when the browser has no WebGL. */
export function probeWebgl() {
  try {
    const canvas = document.createElement("canvas");
    const gl = canvas.getContext("webgl2") || canvas.getContext("webgl");
    if (!gl) return null;
    const info = gl.getExtension("WEBGL_debug_renderer_info");
    const renderer = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER) ?? "unknown");
    gl.getExtension("WEBGL_lose_context")?.loseContext();
    return renderer;
  } catch {
    return null;
  }
}

/** {adapter: description} when the browser offers WebGPU, else {reason}. */
export async function probeWebgpu() {
  if (!globalThis.navigator?.gpu) return { reason: "no WebGPU in this browser" };
  try {
    const adapter = await navigator.gpu.requestAdapter();
    if (!adapter) return { reason: "WebGPU is here but offers no adapter (GPU blocked or absent)" };
    const info = adapter.info ?? {};
    return { adapter: [info.vendor, info.architecture, info.description].filter(Boolean).join(" ") || "unknown" };
  } catch (err) {
    return { reason: `WebGPU adapter request failed (${err.message ?? err})` };
  }
}

/** Why this browser cannot run runtime `name` (null if it can); `env`: {renderer, webgpu} from the probes. */
export function browserLacks(name, env) {
  if (name === "tfjs-webgl" && env.renderer === null) return "no WebGL in this browser";
  if (name.endsWith("webgpu") && env.webgpu?.reason) return env.webgpu.reason;
  if ((name.endsWith("wasm") || name === "onnx-webgpu") && !globalThis.WebAssembly) return "no WebAssembly in this browser";
  return null;
}
