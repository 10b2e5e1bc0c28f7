// Splitting text into tokens and joining tokens back into text: twin of textgen_export/contract/tokens.py.

export const META_TOKEN = "<s>";

// textgenrnn spaces these out at word level so punctuation becomes its own token.
export const WORD_PUNCTUATION = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~' + "\n\t'‘’“”–—…";
const PUNCT = new Set(WORD_PUNCTUATION);
// When joining words, these stick to the token before them ...
const ATTACH_LEFT = new Set("!%),.:;?@]_}\n\t'’”…");
// ... and these to the token after them.
const ATTACH_RIGHT = new Set("$([_\n\t'‘“");

/** Lower-case, space out punctuation, split on spaces (only " ", as Python's re.split(" +")). */
export function wordTokens(text) {
  let spaced = "";
  for (const ch of text.toLowerCase()) spaced += PUNCT.has(ch) ? ` ${ch} ` : ch;
  return spaced.split(/ +/).filter((t) => t.length > 0);
}

/** Char level splits into code points (Python's list(str)), not UTF-16 units. */
export function tokenize(text, wordLevel) {
  return wordLevel ? wordTokens(text) : Array.from(text);
}

/** Joins tokens one at a time, so streamed pieces concatenate to exactly detokenize(tokens). */
export class Detokenizer {
  constructor(wordLevel) {
    this.wordLevel = wordLevel;
    this.glueNext = true; // no space before the first token
    this.quoteOpen = false; // straight double quotes alternate: opening ones glue right, closing ones left
  }

  push(tok) {
    if (!this.wordLevel) return tok;
    const isQuote = tok === '"';
    const attachLeft = ATTACH_LEFT.has(tok) || (isQuote && this.quoteOpen);
    const piece = this.glueNext || attachLeft ? tok : " " + tok;
    this.glueNext = ATTACH_RIGHT.has(tok) || (isQuote && !this.quoteOpen);
    if (isQuote) this.quoteOpen = !this.quoteOpen;
    return piece;
  }
}

/** Join generated tokens; at word level re-attach punctuation to its neighbours. */
export function detokenize(tokens, wordLevel) {
  if (!wordLevel) return tokens.join("");
  const joiner = new Detokenizer(wordLevel);
  return tokens.map((t) => joiner.push(t)).join("");
}
