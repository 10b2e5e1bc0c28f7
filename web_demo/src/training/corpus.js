// Texts → one token array + document starts + the positions of every training target, and the windows of a
// batch of positions: twin of textgen_export/training/corpus.py and tfdata.WindowSource.pairs.
//   ids: maxLength zeros, then each document as [<s>] + tokens + [<s>] (singleText: just its tokens).
//   A training pair is a target position p whose token is in the vocabulary (not 0) with at least one token
//   of its document before it (singleText: maxLength tokens); its window is ids[p - maxLength, p), tokens
//   from before the document's start set to 0 (left padding).

import { META_TOKEN } from "../contract/tokens.js";
import { TrainingError } from "./texts.js";

/** The indices of `text`'s tokens in `vocabulary` (a contract/vocabulary.js Vocabulary), unknown → 0. */
function encode(vocabulary, text) {
  if (vocabulary.wordLevel) return vocabulary.encode(vocabulary.tokenize(text));
  const out = [];
  for (const ch of text) out.push(vocabulary.tokenToIndex.get(ch) ?? 0); // one token per code point
  return out;
}

/**
 * @param {string[]} texts @param vocabulary a Vocabulary @param {number} maxLength @param {boolean} singleText
 * @returns {{ids: Int32Array, docStarts: Float64Array, positions: Uint32Array, maxLength: number, numTokens: number}}
 */
export function buildCorpus(texts, vocabulary, maxLength, singleText) {
  const meta = vocabulary.tokenToIndex.get(META_TOKEN);
  if (!singleText && meta === undefined) {
    throw new TrainingError(`the vocabulary has no ${META_TOKEN}; train with single_text or add it`);
  }
  const encoded = texts.map((t) => encode(vocabulary, t));
  const wrap = singleText ? 0 : 2;
  const total = maxLength + encoded.reduce((n, e) => n + e.length + wrap, 0);
  if (total >= 2 ** 32) throw new TrainingError("the text is too long to train on here (over 4 billion tokens)");
  const ids = new Int32Array(total);
  const docStarts = new Float64Array(texts.length);
  let at = maxLength;
  encoded.forEach((tokens, k) => {
    docStarts[k] = at;
    if (!singleText) ids[at++] = meta;
    ids.set(tokens, at);
    at += tokens.length;
    if (!singleText) ids[at++] = meta;
  });
  const skip = singleText ? maxLength : 1;
  const positions = [];
  for (let k = 0; k < texts.length; k++) {
    const end = k + 1 < texts.length ? docStarts[k + 1] : total;
    for (let p = docStarts[k] + skip; p < end; p++) if (ids[p] !== 0) positions.push(p);
  }
  return { ids, docStarts, positions: Uint32Array.from(positions), maxLength, numTokens: total - maxLength };
}

/** The document of target position `p`: the last start <= p (binary search). */
function documentStart(docStarts, p) {
  let lo = 0;
  let hi = docStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (docStarts[mid] <= p) lo = mid;
    else hi = mid - 1;
  }
  return docStarts[lo];
}

/** The training pairs of `positions` (any array of target positions): windows Int32Array [B*L], targets Int32Array [B]. */
export function pairs(corpus, positions) {
  const { ids, docStarts, maxLength: L } = corpus;
  const windows = new Int32Array(positions.length * L);
  const targets = new Int32Array(positions.length);
  for (let b = 0; b < positions.length; b++) {
    const p = positions[b];
    const from = Math.max(p - L, documentStart(docStarts, p));
    windows.set(ids.subarray(from, p), b * L + L - (p - from));
    targets[b] = ids[p];
  }
  return { windows, targets };
}
