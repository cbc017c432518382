"""Training the learned layer: the corpus in, ``triage_model.json`` out.

Run by developers (``frontdoor triage --train``), never by the bot. It needs
scikit-learn and SciPy, which the bot itself does not: ``pip install -e
'.[train]'``. The steps, each for a reason:

1. Features of every **train** writer's message (:func:`triage_model.features`);
   a feature seen in fewer than two messages is dropped (it can only memorise).
2. An L2-regularised logistic regression, urgent against the rest. Distress
   messages weigh less than routine ones: flagging a person who is struggling
   costs one kind paragraph, and the people who wrote "not suicidal, but..."
   are close enough to danger that the line should not be drawn hard there.
3. The threshold is chosen, for the whole triage (rules or model), on
   messages the scoring model never saw: the **dev** writers, and each train
   writer scored by a model trained without that writer. It is the lowest
   probability at which false alarms on those routine messages stay within
   the target (4%, under the 5% the service accepts, so that new writers have
   a little room). Recall first, within that bound.
4. The weights go out as plain JSON, rounded, with what they were trained on.

The **test** writers are not read here at all.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Callable, Sequence

from bot.conversation.triage_corpus import Example
from bot.conversation.triage_model import DEFAULT_PATH, FORMAT, LinearModel, features

TARGET_FALSE_ALARMS = 0.04
C = 8.0
DISTRESS_WEIGHT = 0.2
MIN_DF = 2


class TrainingUnavailable(RuntimeError):
    """scikit-learn is not installed."""


def _train_linear(train: Sequence[Example], c: float, distress_weight: float) -> tuple[dict[str, float], float]:
    """Weights and bias of a logistic regression on ``train``."""
    try:
        from scipy.sparse import csr_matrix
        from sklearn.linear_model import LogisticRegression
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise TrainingUnavailable("training needs scikit-learn: pip install -e '.[train]'") from exc

    feats = [features(ex.text) for ex in train]
    df: dict[str, int] = {}
    for fs in feats:
        for f in fs:
            df[f] = df.get(f, 0) + 1
    vocab = {f: i for i, f in enumerate(sorted(f for f, n in df.items() if n >= MIN_DF))}
    rows, cols, vals = [], [], []
    for r, fs in enumerate(feats):
        if not fs:
            continue
        v = 1.0 / len(fs) ** 0.5
        for f in fs:
            i = vocab.get(f)
            if i is not None:
                rows.append(r)
                cols.append(i)
                vals.append(v)
    x = csr_matrix((vals, (rows, cols)), shape=(len(train), len(vocab)))
    y = [1 if ex.label == "urgent" else 0 for ex in train]
    weight = [distress_weight if ex.label == "distress" else 1.0 for ex in train]
    clf = LogisticRegression(C=c, solver="liblinear", max_iter=2000)
    clf.fit(x, y, sample_weight=weight)
    names = sorted(vocab, key=vocab.get)
    weights = {f: round(float(w), 4) for f, w in zip(names, clf.coef_[0]) if abs(w) >= 1e-3}
    return weights, round(float(clf.intercept_[0]), 5)


def fit(
    train: Sequence[Example],
    dev: Sequence[Example],
    rules: Callable[[str], bool],
    *,
    target: float = TARGET_FALSE_ALARMS,
    c: float = C,
    distress_weight: float = DISTRESS_WEIGHT,
) -> dict:
    """The model as the dict that is written to JSON.

    The threshold is chosen on messages the model being scored never saw: the
    dev writers (scored by the final model) and every train writer scored by a
    model trained without that writer (leave one writer out). A hundred-odd dev
    routine messages alone would set the threshold by one or two messages."""
    weights, bias = _train_linear(train, c, distress_weight)
    final = LinearModel(weights, bias, 0.5, {})
    unseen: list[tuple[Example, float]] = [(ex, final.probability(ex.text)) for ex in dev]
    writers = sorted({ex.writer for ex in train})
    for writer in writers:
        rest = [ex for ex in train if ex.writer != writer]
        held = [ex for ex in train if ex.writer == writer]
        w, b = _train_linear(rest, c, distress_weight)
        fold_model = LinearModel(w, b, 0.5, {})
        unseen.extend((ex, fold_model.probability(ex.text)) for ex in held)
    model = {"format": FORMAT, "bias": bias, "weights": weights}
    model["threshold"] = choose_threshold(unseen, rules, target)
    model["meta"] = {
        "trained": date.today().isoformat(),
        "train_messages": len(train),
        "train_writers": writers,
        "dev_writers": sorted({ex.writer for ex in dev}),
        "threshold_chosen_on": "dev writers, and each train writer scored by a model trained without it",
        "target_false_alarms_routine": target,
        "C": c,
        "distress_weight": distress_weight,
        "min_df": MIN_DF,
        "features": len(weights),
    }
    return model


def choose_threshold(scored: Sequence[tuple[Example, float]], rules: Callable[[str], bool], target: float) -> float:
    """The lowest threshold keeping routine false alarms of rules-or-model on ``scored`` within ``target``."""
    routine = [(ex, p) for ex, p in scored if ex.label == "routine"]
    if not routine:
        return 0.5
    by_rules = [rules(ex.text) for ex, _ in routine]
    probs = sorted((p for (_, p), r in zip(routine, by_rules) if not r), reverse=True)
    allowed = int(target * len(routine)) - sum(by_rules)
    if allowed < 0:
        return 0.999  # the rules alone are over budget: the model may add nothing
    if allowed >= len(probs):
        return 0.01
    # Just above the (allowed+1)-th highest routine probability: that many alarms at most.
    return round(min(0.999, max(0.01, probs[allowed] + 1e-6)), 6)


def write(model: dict, path: Path = DEFAULT_PATH) -> None:
    Path(path).write_text(json.dumps(model, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n", encoding="utf-8")
