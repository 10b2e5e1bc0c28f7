// Interactive writing: the user picks each next token from the model's top-N (twin of textgen_export/sampling/interactive.py).

import { checkContext } from "../contract/labels.js";
import { META_TOKEN } from "../contract/tokens.js";
import { checkFinite, checkTemperatures, tempered, topOptions } from "./sampler.js";

export const MAX_TOP_N = 100;

export class InteractiveSession {
  constructor(generator, { prefix = null, temperature = 0.5, topN = 3, maxGenLength = 300, context = null } = {}) {
    if (!Number.isInteger(topN) || topN < 1 || topN > MAX_TOP_N) {
      throw new Error(`top_n must be an integer from 1 to ${MAX_TOP_N}, got ${JSON.stringify(topN)}`);
    }
    this.generator = generator;
    this.context = checkContext(generator.labels, context); // null: the text path
    this.topN = topN;
    this.temperatures = checkTemperatures(temperature);
    this.maxGenLength = maxGenLength;
    this.tokens = generator.startTokens(prefix || null);
    this.stopped = false;
  }

  get done() {
    return this.stopped || this.tokens.length >= this.maxGenLength;
  }

  /** The top-N next tokens, most likely first (ranked under this position's temperature). */
  async options() {
    const { vocab, config, adapter } = this.generator;
    const windows = vocab.windows([this.tokens], config.max_length);
    const probs = checkFinite(this.context ? await adapter.probs(windows, 1, this.context) : await adapter.probs(windows, 1));
    const temp = this.temperatures[(this.tokens.length - 1) % this.temperatures.length];
    const ranked = temp === 0 ? probs : tempered(probs, temp);
    return topOptions(ranked, this.topN).map((i) => vocab.token(i));
  }

  choose(token) {
    this.tokens.push(token);
    if (token === META_TOKEN) this.stopped = true;
  }

  /** Write-your-own: the text is tokenised like a prefix and appended, token by token. textgenrnn appended the
   * typed string as one (unknown) token, so the model saw padding there; Python's InteractiveSession.write and
   * the CLI tokenise it the same way as this. */
  write(text) {
    for (const tok of this.generator.vocab.tokenize(text)) this.tokens.push(tok);
  }

  backspace() {
    if (this.tokens.length > 1) this.tokens.pop();
  }

  stop() {
    this.stopped = true;
  }

  get text() {
    return this.generator.finishText(this.tokens);
  }
}
