"""From next-token probabilities to text: seeded rng, sampler, the one generation loop, interactive, ensembles."""
