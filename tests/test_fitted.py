"""The structure model's plain-array copies predict what scikit-learn's fitted estimators do,
and reading a text report loads neither scikit-learn nor OpenCV."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
from conftest import ROOT, SEEDS
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from extract.structure.anchors import _label_text
from extract.structure.fitted import Isotonic, Sigmoid, TextClassifier, TreeEnsemble
from training.generate import sample
from training.train import label_data


def test_the_label_classifier_copy_scores_as_scikit_learn_does():
    texts, labels = label_data([sample(seed) for seed in range(6)], 0)
    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=2,
                                 preprocessor=_label_text)
    classifier = LogisticRegression(C=8.0, max_iter=2000).fit(vectorizer.fit_transform(texts), labels)
    copy = TextClassifier.from_sklearn(vectorizer, classifier)
    # texts it was fitted on, texts with runs of spaces, unseen characters, nothing at all
    probe = texts[::7] + ["（一）本年  新收政府信息公开申请数量", "无关  的 文字 ABC", "", "   "]
    want = classifier.predict_proba(vectorizer.transform(probe))
    assert copy.classes_ == list(classifier.classes_)
    assert np.abs(copy.predict_proba(probe) - want).max() < 1e-12


def test_the_tree_ensemble_copy_scores_as_scikit_learn_does():
    rng = np.random.default_rng(3)
    # whole-number features (values landing on thresholds) and missing ones (NaN's own branch)
    X = rng.integers(0, 12, size=(4000, 6)).astype(float)
    X[rng.random(X.shape) < 0.08] = np.nan
    y = ((np.nan_to_num(X[:, 0], nan=5) + np.nan_to_num(X[:, 1], nan=0) * (X[:, 2] > 4)) > 9).astype(int)
    y ^= rng.random(len(y)) < 0.1
    model = HistGradientBoostingClassifier(max_iter=60, max_leaf_nodes=15, random_state=0).fit(X, y)
    copy = TreeEnsemble.from_sklearn(model)
    probe = np.vstack([X[:500], rng.integers(-2, 14, size=(500, 6)).astype(float)])
    probe[rng.random(probe.shape) < 0.1] = np.nan
    assert np.abs(copy.predict_proba(probe) - model.predict_proba(probe)).max() < 1e-12


def test_the_calibrator_copies_map_as_scikit_learn_does():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(800, 1)) * 4
    y = (x[:, 0] + rng.normal(size=800) * 2 > 1).astype(int)
    probe = np.vstack([x, [[-50.0], [50.0], [x[0, 0]]]])  # beyond the range fitted on, and on a fitted point
    sigmoid = LogisticRegression(C=100.0).fit(x, y)
    assert np.abs(Sigmoid.from_sklearn(sigmoid).predict_proba(probe) - sigmoid.predict_proba(probe)).max() < 1e-12
    isotonic = IsotonicRegression(y_min=0.0, y_max=1 - 1e-4, out_of_bounds="clip").fit(x[:, 0], y)
    got = Isotonic.from_sklearn(isotonic).predict_proba(probe)[:, 1]
    assert np.abs(got - isotonic.predict(probe[:, 0])).max() < 1e-12


def test_a_text_report_is_read_without_scikit_learn_or_opencv():
    # what a first run after installing reads from disk: these two were most of it (and half its time)
    seed = sorted(SEEDS.glob("*.txt"))[0]
    code = ("import sys, extract; r = extract.extract(sys.argv[1]); assert r.readings, 'nothing read'; "
            "print(' '.join(m for m in ('sklearn', 'scipy', 'cv2', 'onnxruntime') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code, str(seed)], cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == []
