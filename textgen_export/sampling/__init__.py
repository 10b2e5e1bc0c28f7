"""From next-token probabilities to text: seeded rng, sampler, the one generation loop, its trace (attention
and candidates per token), interactive, ensembles."""
