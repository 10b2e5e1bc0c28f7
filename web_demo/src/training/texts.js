// A training file's text → the texts training uses: twin of the plain-file readers of
// textgen_export/training/texts.py (`read_texts` with no CSV, and `read_largetext`).
//   plain: one text per line ("\n"; a trailing "\r" dropped), the first line skipped with `header`;
//   largetext: the whole file is one text (single_text mode).
// Blank texts (only Python-whitespace) are dropped; a file of nothing else is an error.

export class TrainingError extends Error {
  constructor(message) {
    super(message);
    this.name = "TrainingError";
  }
}

// Python's str.isspace() characters (JS's trim() differs: it strips U+FEFF and keeps U+001C..U+001F, U+0085).
const BLANK = /^[\t\n\v\f\r \u001c-\u001f\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$/;
// One text (line) longer than this is a whole document read in line mode by mistake (texts.py's MAX_TEXT_CHARS).
export const MAX_TEXT_CHARS = 1_000_000;

/** Does `text` hold only whitespace (Python's `not text.strip()`)? */
export function isBlank(text) {
  return BLANK.test(text);
}

function codePointLength(text) {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff || i + 1 >= text.length) n++;
    else {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
      n++;
    }
  }
  return n;
}

/**
 * The texts of a training file's content (already decoded; a leading byte-order mark is dropped), read as
 * `textgen-export train FILE` reads it: `largetext` one text, else one per line (`header`: skip the first).
 * `name` names the file in messages.
 */
export function textsFromFile(content, { header = false, largetext = false, name = "the training text" } = {}) {
  const text = content.startsWith("\ufeff") ? content.slice(1) : content;
  if (largetext) {
    if (isBlank(text)) throw new TrainingError(`${name} has no text (only whitespace); give a file with some text`);
    return [text];
  }
  let lines = text.split("\n");
  if (header) lines = lines.slice(1);
  const texts = lines.map((line) => (line.endsWith("\r") ? line.slice(0, -1) : line));
  texts.forEach((line, k) => {
    if (line.length > MAX_TEXT_CHARS && codePointLength(line) > MAX_TEXT_CHARS) {
      throw new TrainingError(
        `${name} line ${k + 1 + header} is over the ${MAX_TEXT_CHARS.toLocaleString("en")} characters allowed for one text; ` +
          "train on it as one long text (largetext) or split it into lines",
      );
    }
  });
  const kept = texts.filter((t) => !isBlank(t));
  if (!kept.length) throw new TrainingError(`${name} has no text (only blank lines); give a file with some text`);
  return kept;
}
