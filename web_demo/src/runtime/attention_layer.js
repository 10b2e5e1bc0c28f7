// AttentionWeightedAverage for TF.js: twin of textgen_export/keras/attention.py, registered so that
// tf.loadLayersModel can build the exported model.json.  `tf` is passed in (not imported) so Node and the page
// register the class with the very TF.js instance they load models with.
//   logits_t = x_t . W;  a_t = exp(logits_t - max) / (sum exp + 1e-7);  output = sum_t a_t x_t

const EPSILON = 1e-7;
const registered = new WeakSet();

export function registerAttentionLayer(tf) {
  if (registered.has(tf)) return;
  class AttentionWeightedAverage extends tf.layers.Layer {
    constructor(config = {}) {
      super(config);
      // Keys arrive camel-cased from model.json (TF.js converts the Python-style names).
      this.returnAttention = Boolean(config.returnAttention ?? config.return_attention ?? false);
    }

    build(inputShape) {
      const shape = Array.isArray(inputShape[0]) ? inputShape[0] : inputShape;
      const channels = shape[shape.length - 1];
      // Named "<layer>_W" like the Keras layer, so weights match by name ("attention/attention_W").
      this.W = this.addWeight(`${this.name}_W`, [channels, 1], "float32",
        tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05 }));
      this.built = true;
    }

    call(inputs) {
      return tf.tidy(() => {
        const x = Array.isArray(inputs) ? inputs[0] : inputs;
        const [, time, channels] = x.shape;
        const logits = tf.reshape(tf.matMul(tf.reshape(x, [-1, channels]), this.W.read()), [-1, time]);
        const e = tf.exp(tf.sub(logits, tf.max(logits, -1, true)));
        const weights = tf.div(e, tf.add(tf.sum(e, 1, true), EPSILON));
        const result = tf.sum(tf.mul(x, tf.expandDims(weights, -1)), 1);
        return this.returnAttention ? [result, weights] : result;
      });
    }

    computeOutputShape(inputShape) {
      const out = [inputShape[0], inputShape[inputShape.length - 1]];
      return this.returnAttention ? [out, [inputShape[0], inputShape[1]]] : out;
    }

    getConfig() {
      return { ...super.getConfig(), return_attention: this.returnAttention };
    }

    static get className() {
      return "AttentionWeightedAverage";
    }
  }
  tf.serialization.registerClass(AttentionWeightedAverage);
  registered.add(tf);
}
