// The vocabulary (token -> index, 0 = padding/unknown) and window encoding: twin of textgen_export/contract/vocabulary.py.

import { tokenize } from "./tokens.js";

export class Vocabulary {
  /** @param {Record<string, number>} tokenToIndex @param {boolean} wordLevel */
  constructor(tokenToIndex, wordLevel) {
    this.tokenToIndex = new Map(Object.entries(tokenToIndex));
    this.indexToToken = new Map();
    for (const [tok, idx] of this.tokenToIndex) this.indexToToken.set(idx, tok);
    this.wordLevel = wordLevel;
    this.numClasses = this.tokenToIndex.size + 1;
  }

  tokenize(text) {
    return tokenize(text, this.wordLevel);
  }

  encode(tokens) {
    return tokens.map((t) => this.tokenToIndex.get(t) ?? 0);
  }

  token(index) {
    return this.indexToToken.get(index) ?? "";
  }

  /** Encode each token list as one window: last maxLength tokens, left-padded with 0 (Int32Array [B*L]). */
  windows(tokenLists, maxLength) {
    const out = new Int32Array(tokenLists.length * maxLength);
    tokenLists.forEach((tokens, b) => {
      const ids = this.encode(tokens.slice(-maxLength));
      out.set(ids, b * maxLength + maxLength - ids.length);
    });
    return out;
  }
}
