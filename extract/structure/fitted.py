"""Fitted estimators as plain arrays, so reading a report needs numpy and not scikit-learn.

scikit-learn fits the structure model (``extract train``); each fitted estimator is then
copied into one of these, which predict what it predicts from the arrays it learnt. Loading
scikit-learn (with the scipy and pandas it pulls in) took 1.8 s of a 4.4 s run on a text
report, and most of the disk reads of a first run. ``tests/test_fitted.py`` holds each copy
to its original's predictions.
"""
from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

_SPACES = re.compile(r"\s\s+")  # scikit-learn's char analyzer folds runs of white space


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


class TextClassifier:
    """A char n-gram tf-idf vectorizer (sublinear tf, l2 rows) and a logistic regression on it."""

    def __init__(self, vocabulary: dict[str, int], idf: np.ndarray, ngrams: tuple[int, int],
                 preprocessor: Callable[[str], str], coef: np.ndarray, intercept: np.ndarray, classes: list[str]):
        self.vocabulary, self.idf, self.ngrams, self.preprocessor = vocabulary, idf, ngrams, preprocessor
        self.coef_t, self.intercept, self.classes_ = np.ascontiguousarray(coef.T), intercept, classes

    @classmethod
    def from_sklearn(cls, vectorizer, classifier) -> TextClassifier:
        if not (vectorizer.analyzer == "char" and vectorizer.sublinear_tf and vectorizer.norm == "l2"):
            raise ValueError("only a char n-gram vectorizer with sublinear tf and l2 rows is copied")
        return cls(dict(vectorizer.vocabulary_), vectorizer.idf_.copy(), tuple(vectorizer.ngram_range),
                   vectorizer.preprocessor, classifier.coef_.copy(), classifier.intercept_.copy(),
                   list(classifier.classes_))

    def _terms(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The text's tf-idf row: vocabulary indices and their l2-normalised weights."""
        doc = _SPACES.sub(" ", self.preprocessor(text))
        counts: dict[int, int] = {}
        lo, hi = self.ngrams
        for n in range(lo, hi + 1):
            for i in range(len(doc) - n + 1):
                j = self.vocabulary.get(doc[i:i + n])
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
        idx = np.fromiter(sorted(counts), dtype=np.intp, count=len(counts))
        w = (np.log(np.asarray([counts[j] for j in idx], dtype=np.float64)) + 1.0) * self.idf[idx]
        norm = np.sqrt(np.dot(w, w))
        return idx, (w / norm if norm > 0 else w)

    def decision_function(self, texts: list[str]) -> np.ndarray:
        out = np.empty((len(texts), self.coef_t.shape[1]))
        for r, text in enumerate(texts):
            idx, w = self._terms(text)
            out[r] = w @ self.coef_t[idx] + self.intercept
        return out

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        z = self.decision_function(texts)
        if z.shape[1] == 1:
            p = _expit(z[:, 0])
            return np.stack([1 - p, p], axis=1)
        z -= z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        return z / z.sum(axis=1, keepdims=True)


class TreeEnsemble:
    """A binary gradient-boosted tree ensemble: every tree's nodes in one set of arrays."""

    def __init__(self, roots: np.ndarray, feature: np.ndarray, threshold: np.ndarray, missing_left: np.ndarray,
                 left: np.ndarray, right: np.ndarray, leaf: np.ndarray, value: np.ndarray, baseline: float):
        self.roots, self.feature, self.threshold, self.missing_left = roots, feature, threshold, missing_left
        self.left, self.right, self.leaf, self.value, self.baseline = left, right, leaf, value, baseline

    @classmethod
    def from_sklearn(cls, model) -> TreeEnsemble:
        """From a fitted binary ``HistGradientBoostingClassifier`` on numeric features."""
        if len(model.classes_) != 2 or model.is_categorical_ is not None:
            raise ValueError("only a binary ensemble on numeric features is copied")
        nodes = [predictors[0].nodes for predictors in model._predictors]
        offsets = np.cumsum([0] + [len(n) for n in nodes[:-1]]).astype(np.intp)
        every = np.concatenate(nodes)
        shift = np.repeat(offsets, [len(n) for n in nodes])
        return cls(offsets, every["feature_idx"].astype(np.intp), every["num_threshold"].astype(np.float64),
                   every["missing_go_to_left"].astype(bool), every["left"].astype(np.intp) + shift,
                   every["right"].astype(np.intp) + shift, every["is_leaf"].astype(bool),
                   every["value"].astype(np.float64), float(model._baseline_prediction.ravel()[0]))

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        rows = np.arange(len(X))[:, None]
        at = np.broadcast_to(self.roots, (len(X), len(self.roots))).copy()
        while True:
            inner = ~self.leaf[at]
            if not inner.any():
                break
            x = X[rows, self.feature[at]]
            go_left = np.where(np.isnan(x), self.missing_left[at], x <= self.threshold[at])
            at = np.where(inner, np.where(go_left, self.left[at], self.right[at]), at)
        raw = np.full(len(X), self.baseline)
        for values in self.value[at].T:  # tree by tree, the order scikit-learn adds them in
            raw += values
        return raw

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        p = _expit(self.decision_function(X))
        return np.stack([1 - p, p], axis=1)


class Sigmoid:
    """A one-feature logistic regression (Platt scaling)."""

    def __init__(self, coef: float, intercept: float):
        self.coef, self.intercept = coef, intercept

    @classmethod
    def from_sklearn(cls, model) -> Sigmoid:
        return cls(float(model.coef_[0, 0]), float(model.intercept_[0]))

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        p = _expit(np.asarray(x, dtype=np.float64)[:, 0] * self.coef + self.intercept)
        return np.stack([1 - p, p], axis=1)


class Isotonic:
    """A fitted isotonic regression, clipped to the range it was fitted on."""

    def __init__(self, x: np.ndarray, y: np.ndarray):
        self.x, self.y = x, y

    @classmethod
    def from_sklearn(cls, model) -> Isotonic:
        if model.out_of_bounds != "clip":
            raise ValueError("only an isotonic regression clipped to its range is copied")
        return cls(model.X_thresholds_.astype(np.float64), model.y_thresholds_.astype(np.float64))

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        p = np.interp(np.asarray(x, dtype=np.float64)[:, 0], self.x, self.y)
        return np.stack([1 - p, p], axis=1)
