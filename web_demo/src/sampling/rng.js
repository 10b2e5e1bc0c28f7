// splitmix64: the seeded random stream shared with the Python sampler (twin of textgen_export/sampling/rng.py).
// BigInt arithmetic mod 2^64, so both languages draw bit-identical numbers for the same seed.

const MASK = (1n << 64n) - 1n;
const GOLDEN = 0x9e3779b97f4a7c15n;
const MUL1 = 0xbf58476d1ce4e5b9n;
const MUL2 = 0x94d049bb133111ebn;
const TWO_POW_MINUS_53 = 2 ** -53;

export class SplitMix64 {
  /** @param {number|bigint} seed any integer; taken mod 2^64 like Python's `int(seed) & MASK` */
  constructor(seed) {
    this.state = BigInt.asUintN(64, BigInt(seed));
  }

  nextU64() {
    this.state = (this.state + GOLDEN) & MASK;
    let z = this.state;
    z = ((z ^ (z >> 30n)) * MUL1) & MASK;
    z = ((z ^ (z >> 27n)) * MUL2) & MASK;
    return z ^ (z >> 31n);
  }

  /** A float in [0, 1) with 53 random bits. */
  uniform() {
    return Number(this.nextU64() >> 11n) * TWO_POW_MINUS_53;
  }
}
