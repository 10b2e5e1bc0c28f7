"""PCA and cosine similarity in numpy (textgenrnn used scikit-learn for these)."""

from __future__ import annotations

import numpy as np

from ..errors import UserError


class PCA:
    def __init__(self, n_components: int):
        self.n_components = n_components

    def fit(self, x: np.ndarray) -> PCA:
        x = np.asarray(x, dtype=np.float64)
        if x.shape[0] < 2:
            raise UserError("PCA needs at least 2 texts; pass more texts or pca_dims=None")
        self.mean_ = x.mean(axis=0)
        _, s, vt = np.linalg.svd(x - self.mean_, full_matrices=False)
        k = min(self.n_components, vt.shape[0])
        self.components_ = vt[:k]
        self.explained_variance_ = (s[:k] ** 2) / max(x.shape[0] - 1, 1)
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(x, dtype=np.float64) - self.mean_) @ self.components_.T

    def fit_transform(self, x: np.ndarray) -> np.ndarray:
        return self.fit(x).transform(x)


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return a @ b.T


def tsne(x: np.ndarray, dims: int, seed: int | None):
    try:
        from sklearn.manifold import TSNE
    except ImportError:
        raise UserError(
            "t-SNE needs scikit-learn: pip install scikit-learn (or leave tsne_dims=None)"
        ) from None
    model = TSNE(dims, random_state=seed, perplexity=min(30.0, max(1.0, x.shape[0] - 1.0)))
    return model.fit_transform(x), model
