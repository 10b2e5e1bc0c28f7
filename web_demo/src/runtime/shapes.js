// A runtime's model must fit the bundle's vocab.json and config.json: twin of check_shapes in
// textgen_export/runtime/bundle.py.  Checked by running one window of padding, which every runtime can do
// (ONNX Runtime and TF.js alike), before any text is generated.

import { BundleError } from "../contract/bundle.js";

/** Throws a BundleError unless `adapter` gives [1, numClasses] probabilities and [1, max_length] attention. */
export async function checkShapes(adapter, bundle, file) {
  const length = bundle.config.max_length;
  const classes = bundle.vocab.numClasses;
  let out;
  try {
    out = await adapter.outputs(new Int32Array(length), 1);
  } catch (err) {
    throw new BundleError(`${file}: cannot run a window of max_length ${length} (${err.message ?? err}); the files come from different models, re-export the bundle`);
  }
  if (out.probs.length !== classes || out.attention.length !== length) {
    throw new BundleError(
      `${file}: gives ${out.probs.length} probabilities and ${out.attention.length} attention weights per window, but ` +
        `vocab.json gives ${classes} classes and config.json max_length ${length}; the files come from different models, re-export the bundle`,
    );
  }
  return adapter;
}
