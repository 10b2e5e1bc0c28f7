// Context labels: twin of textgen_export/contract/labels.py.  A bundle with a context head lists its labels in
// labels.json, in the order of the head's `context` input; generating for labels feeds 1 for each chosen label.

export const SEPARATOR = "|";

/** One text's labels: "a", "a|b" or ["a", "b|c"] -> trimmed names, repeats dropped. */
export function splitLabels(cell) {
  const parts = typeof cell === "string" ? [cell] : cell;
  if (!Array.isArray(parts)) throw new Error(`a context label must be a string such as 'a' or 'a|b', got ${JSON.stringify(cell)}`);
  const labels = [];
  for (const part of parts) {
    if (typeof part !== "string") throw new Error(`a context label must be a string, got ${JSON.stringify(part)}`);
    for (const piece of part.split(SEPARATOR)) {
      const name = piece.trim();
      if (name && !labels.includes(name)) labels.push(name);
    }
  }
  if (!labels.length) throw new Error("a context label is missing (empty); give every text a label");
  return labels;
}

/** Python's repr of a str, for messages identical to the Python side's. */
function pyRepr(text) {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  return quote + text.replaceAll("\\", "\\\\").replaceAll(quote, "\\" + quote) + quote;
}

export class ContextLabels {
  constructor(names) {
    const ok =
      Array.isArray(names) &&
      names.length > 0 &&
      names.every((n) => typeof n === "string" && n.trim() === n && n !== "" && !n.includes(SEPARATOR)) &&
      new Set(names).size === names.length;
    if (!ok) throw new Error("labels.json: must be an array of unique, non-empty, trimmed label strings");
    this.names = names;
  }

  known() {
    return this.names.join(", ");
  }

  /** Float32Array [labels]: 1 for each label of `context` (a name, "a|b", or an array of names). */
  vector(context) {
    const chosen = splitLabels(context);
    const vector = new Float32Array(this.names.length);
    for (const name of chosen) {
      const at = this.names.indexOf(name);
      if (at < 0) throw new Error(`unknown context label ${pyRepr(name)}; this model knows: ${this.known()}`);
      vector[at] = 1;
    }
    return vector;
  }
}

/** The label vector for `context`, or null (the text path) when none is given; a model without a head refuses. */
export function checkContext(labels, context) {
  if (context === null || context === undefined || context === "" || (Array.isArray(context) && !context.length)) return null;
  if (!labels) throw new Error("this model has no context head (it was not trained with --context); generate without a context label");
  return labels.vector(context);
}
