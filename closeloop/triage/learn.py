"""The learned part: character n-grams of the complaint's words (TF-IDF) and one naive Bayes classifier
(complement NB) per field — type, responsible department, priority and, once the history holds enough
flagged complaints, safety hazard. Chosen and measured in docs/decisions.md ("Triage"): Chinese needs no
word segmentation when the features are characters and their pairs, so there is no dictionary to ship
and nothing to download; complement NB trains in a second on 100,000 complaints, generalises to new
wordings better than logistic regression did on the same data, and each class's weight per n-gram
says which words drove a suggestion.

The safety-hazard classifier reads the text with its denied hazard words blanked out
(`text.without_denied`: "没有冒烟" teaches and triggers nothing) and answers the probability that a
complaint describes a hazard; the lexicon's hit OR that probability at TRIAGE_HAZARD_MODEL_PERCENT flags it
(closeloop/triage/hazards.py).

A fitted model is pickled into a TriageModel row. Each process loads the newest version once and keeps
it (`current()`); it looks for a newer version at most every CHECK_SECONDS, with one indexed query.
"""

from __future__ import annotations

import io
import pickle
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.naive_bayes import ComplementNB

from closeloop.triage.models import TriageModel
from closeloop.triage.text import spans

FIELDS = ("type", "department", "priority", "hazard")
HAZARD = "hazard"  # read on the text without its denied hazard words, not offered as a suggestion
CHECK_SECONDS = 10.0
# A field is learned only when its history holds at least this many examples of two values or more.
MIN_PER_CLASS = 5


def model_text(description: str, product_text: str = "") -> str:
    return f"{description or ''} {product_text or ''}".strip()


@dataclass
class Guess:
    value: str
    confidence: float
    # The stretches of the text that weighed most for `value` (explainable).
    words: list[str] = field(default_factory=list)


class Learned:
    """The fitted vectorizer and a classifier per field (those the history could teach)."""

    def __init__(self, vectorizer: TfidfVectorizer, classifiers: dict[str, ComplementNB], samples: int) -> None:
        self.vectorizer = vectorizer
        self.classifiers = classifiers
        self.samples = samples  # complaints it learned from: below TRIAGE_MIN_HISTORY the rules answer
        self._grams: np.ndarray | None = None
        self._weights: np.ndarray | None = None
        self._analyzer: Callable[[str], list[str]] | None = None
        self._idf: np.ndarray | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"vectorizer": self.vectorizer, "classifiers": self.classifiers, "samples": self.samples}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["vectorizer"], state["classifiers"], state["samples"])  # type: ignore[misc]  # rebuilds the caches

    @property
    def grams(self) -> np.ndarray:
        if self._grams is None:
            self._grams = self.vectorizer.get_feature_names_out()
        return self._grams

    @property
    def cluster_weights(self) -> np.ndarray:
        """Per n-gram, how much it tells the complaint types and departments apart (the spread of the
        classifiers' weights for it, 0 to 1): what a failure's complaints share — 不亮, 闪, 嗡嗡 — weighs,
        what every complaint says — 你好, 吸顶灯, 要求退货 — hardly. Used to cluster by failure."""
        if self._weights is None:
            spread = np.zeros(len(self.grams), dtype=np.float64)
            for name in ("type", "department"):
                clf = self.classifiers.get(name)
                if clf is not None:
                    log_prob = clf.feature_log_prob_
                    spread += log_prob.max(axis=0) - log_prob.mean(axis=0)
            top = spread.max()
            self._weights = (spread / top if top > 0 else np.ones_like(spread)).astype(np.float32)
        return self._weights

    def row(self, text: str) -> Row:
        """The text's TF-IDF row as the fitted vectorizer's `transform([text])` computes it (its n-grams,
        sublinear counts, idf, unit length), without scikit-learn's validation and sparse-matrix building:
        ~40 µs instead of ~0.5 ms a text, what lets intake read every complaint with the hazard model
        (docs/decisions.md, issue 19). Equal to `transform` (tests/triage/test_hazard_model.py)."""
        if self._analyzer is None or self._idf is None:
            self._analyzer = self.vectorizer.build_analyzer()
            self._idf = np.asarray(self.vectorizer.idf_, dtype=np.float64)
        vocabulary = self.vectorizer.vocabulary_
        counts: dict[int, int] = {}
        for gram in self._analyzer(text):
            column = vocabulary.get(gram)
            if column is not None:
                counts[column] = counts.get(column, 0) + 1
        if not counts:
            return Row(np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.float64))
        indices = np.fromiter(sorted(counts), dtype=np.intp, count=len(counts))
        data = np.fromiter((counts[c] for c in indices.tolist()), dtype=np.float64, count=len(counts))
        if self.vectorizer.sublinear_tf:
            data = np.log(data) + 1.0
        data *= self._idf[indices]
        data /= np.sqrt(np.dot(data, data))
        return Row(indices, data)

    def guess(self, text: str, *, explain: int = 4) -> dict[str, Guess]:
        """The suggested fields (type, department, priority) for the text."""
        row = self.row(text)
        guesses = {}
        for name, clf in self.classifiers.items():
            if name == HAZARD:
                continue
            proba = _proba(clf, row)
            best = int(np.argmax(proba))
            guesses[name] = Guess(
                value=str(clf.classes_[best]),
                confidence=round(float(proba[best]), 3),
                words=self._drivers(text, row, clf, best, explain),
            )
        return guesses

    def hazard(self, text: str, *, explain: int = 4, explain_from: float = 0.0) -> Guess | None:
        """The probability that `text` (denied hazard words already blanked out: `text.without_denied`)
        describes a safety hazard, with the words that drove it when it reaches `explain_from` (the
        intake check explains only what it flags); None when the history taught no hazard."""
        clf = self.classifiers.get(HAZARD)
        if clf is None or "1" not in clf.classes_:
            return None
        row = self.row(text)
        proba = _proba(clf, row)
        yes = int(np.flatnonzero(clf.classes_ == "1")[0])
        chance = round(float(proba[yes]), 3)
        words = self._drivers(text, row, clf, yes, explain) if chance >= explain_from else []
        return Guess("1", chance, words)

    def hazard_many(self, texts: list[str]) -> list[float]:
        """The hazard probability of many texts at once (denied words blanked out), 0.0 without a classifier."""
        clf = self.classifiers.get(HAZARD)
        if clf is None or "1" not in clf.classes_:
            return [0.0] * len(texts)
        yes = int(np.flatnonzero(clf.classes_ == "1")[0])
        return [float(p) for p in clf.predict_proba(self.vectorizer.transform(texts))[:, yes]]

    def predict_many(self, texts: list[str]) -> dict[str, list[str]]:
        """Each suggested field's value for many texts at once (scoring a model on its held-out part)."""
        matrix = self.vectorizer.transform(texts)
        return {name: [str(v) for v in clf.predict(matrix)] for name, clf in self.classifiers.items() if name != HAZARD}

    def _drivers(self, text: str, row: Row, clf: ComplementNB, best: int, limit: int) -> list[str]:
        """The n-grams of the text whose weight for the chosen class most exceeds their average weight
        over the classes, merged back into the stretches of text they cover."""
        if limit <= 0 or not len(row.indices):
            return []
        columns = row.indices
        weights = clf.feature_log_prob_[:, columns]
        lift = row.data * (weights[best] - weights.mean(axis=0))
        order = np.argsort(-lift)[: limit * 2]
        grams = [str(self.grams[columns[i]]) for i in order if lift[i] > 0]
        return spans(text, grams, limit=limit)


@dataclass(frozen=True)
class Row:
    """One text's TF-IDF row: its columns and their weights (`Learned.row`)."""

    indices: np.ndarray
    data: np.ndarray


def _proba(clf: ComplementNB, row: Row) -> np.ndarray:
    """ComplementNB.predict_proba for one row, without scikit-learn's input validation (most of the
    time of a single suggestion): the same joint log-likelihood, normalised."""
    jll = clf.feature_log_prob_[:, row.indices].astype(np.float64) @ row.data
    if len(clf.classes_) == 1:
        jll = jll + clf.class_log_prior_
    jll = jll - jll.max()
    proba: np.ndarray = np.exp(jll) / np.exp(jll).sum()
    return proba


def fit(texts: list[str], labels: dict[str, list[str]], *, hazard_texts: list[str] | None = None) -> Learned:
    """Fit the vectorizer on `texts` and a classifier per field of `labels` that has two values or more
    with MIN_PER_CLASS examples each; the hazard classifier on `hazard_texts` (the same texts with their
    denied hazard words blanked out) when given."""
    vectorizer = TfidfVectorizer(
        analyzer="char", ngram_range=(1, 2), min_df=2, sublinear_tf=True, max_features=200_000, dtype=np.float32
    )
    matrix = vectorizer.fit_transform(texts)
    # The n-grams left out (rare, or beyond max_features): introspection only, and most of a pickle's size.
    if hasattr(vectorizer, "stop_words_"):
        del vectorizer.stop_words_
    hazard_matrix = matrix
    if hazard_texts is not None:
        # Only the few texts with a denied hazard word differ: transform those, take the others' rows.
        changed = [i for i, (a, b) in enumerate(zip(texts, hazard_texts, strict=True)) if a != b]
        if changed:
            order = np.arange(len(texts))
            order[changed] = len(texts) + np.arange(len(changed))
            extra = vectorizer.transform([hazard_texts[i] for i in changed])
            hazard_matrix = sparse.vstack([matrix, extra], format="csr")[order]
    classifiers = {}
    for name, values in labels.items():
        counts: dict[str, int] = {}
        for value in values:
            counts[value] = counts.get(value, 0) + 1
        if sum(1 for n in counts.values() if n >= MIN_PER_CLASS) < 2:
            continue
        classifiers[name] = ComplementNB(alpha=0.3).fit(hazard_matrix if name == HAZARD else matrix, values)
    return Learned(vectorizer, classifiers, len(texts))


def dumps(learned: Learned) -> bytes:
    buffer = io.BytesIO()
    pickle.dump(learned, buffer, protocol=pickle.HIGHEST_PROTOCOL)
    return buffer.getvalue()


def loads(blob: bytes) -> Learned:
    # Our own rows, written by `triage_train` in this database: never a file from elsewhere.
    learned = pickle.loads(bytes(blob))  # noqa: S301
    if not isinstance(learned, Learned):
        raise TypeError("not a triage model")
    return learned


# --- the model in use, per process ------------------------------------------------------------------------

_lock = threading.Lock()
_state: dict[str, Any] = {"version": None, "learned": None, "checked": 0.0}


def current(*, now: float | None = None) -> tuple[int | None, Learned | None]:
    """The newest trained model (version, model), or (None, None) while there is none."""
    now = time.monotonic() if now is None else now
    if now - _state["checked"] < CHECK_SECONDS:
        return _state["version"], _state["learned"]
    with _lock:
        if now - _state["checked"] >= CHECK_SECONDS:
            newest = TriageModel.objects.order_by("-version").values_list("version", flat=True).first()
            if newest != _state["version"]:
                blob = (
                    TriageModel.objects.filter(version=newest).values_list("blob", flat=True).first()
                    if newest is not None
                    else None
                )
                _state["learned"] = loads(blob) if blob is not None else None
                _state["version"] = newest if blob is not None else None
            _state["checked"] = now
    return _state["version"], _state["learned"]


def forget() -> None:
    """Look for the newest version on the next call (after a training run in this process; tests)."""
    with _lock:
        _state.update(version=None, learned=None, checked=0.0)
