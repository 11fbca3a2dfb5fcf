"""Fit the extractive answerer's models on the dev halves of the question sets, choose their
operating points there, and show the abstention trade-off on the test halves.

  ranker     a conditional logit (a softmax over each question's candidate units, McFadden 1974) on
             which unit (sentence, table row, list item) holds a gold answer, from the units' lexical
             features: it learns exactly the choice the answerer makes, one unit among those of one
             question. Fitted on the dev halves' answerable questions that have such a unit.
  fuser      the same conditional logit over two numbers per unit: the ranker's logit and the reading
             model's (rag.answer.reader), which reads the ranker's READ best units.
  margin     the runner-up joins the best unit when its fused logit is within this margin: the margin
             with the most SQuAD-dev gold answers in the answer at a median of at most MAX_WORDS words.
  abstainer  logistic regression: is the question answerable, from its best unit's features, its
             reading (and the names/numbers of the question that its document never mentions)? Fitted
             on every dev-half question with an intercept per set (fit_abstainer says why); its
             threshold is the highest one that refuses at most REFUSE_AT_MOST
             of the answerable questions of each dev half that has at least MEASURABLE of them
             (fewer cannot measure it: one of the seed set's 10 is already 10%), counted on
             cross-fitted probabilities: each fold (a SQuAD article, a folder of PDFs, the seed set)
             scored by models fitted on the other folds, as the held-out sets will be; and no
             higher than the threshold at which its refusals cost SQuAD's dev half PROSE_COST of
             gold in answer (a refused answerable question counts as wrong) against the vetoes alone.

A set of n questions weighs sqrt(n) in both fits (each question 1/sqrt(n)): the held-out sets are
seed-style questions, SQuAD articles and real filings alike, and SQuAD's 418 dev questions would
otherwise decide alone, while equal weights would let the seed set's 12 dev questions count as much
as 418. L2-regularised on standardised features (C = 1).

Both models are monotone in the evidence (SIGNS): more coverage, a closer cosine, the kind of answer
asked for held can only raise a unit's score and a question's P(answerable); a missing kind or word
can only lower them. Fitted freely, the abstainer learned SQuAD's adversarial unanswerables (written to
overlap the paragraph) as "more coverage, less answerable", which does not carry to questions it was
not fitted on. Cross-fitted (below) on 2026-12-02, its AUC was 0.429 on SQuAD and 0.514 on the PDFs
fitted freely, 0.608 and 0.600 monotone; the top unit was right for 0.838 of SQuAD's questions fitted
freely, 0.848 monotone (PDFs 0.692 both). That was before tests/data/seed_dev.jsonl joined the seed
set; with it, monotone: 0.618 (SQuAD), 0.645 (PDFs), 0.426 (seed); in the fit of ee3a890, whose
models rag/answer/fitted.py holds, 0.610 (SQuAD), 0.594 (PDFs), 0.418 (seed).

Writes rag/answer/fitted.py (the constants the answerer loads), prints the test halves' trade-off
curve per set and draws it to bench/out/abstention.png. Splits as in bench/quality.py. With --keep,
it fits nothing: it reports the models in use, as the answerer runs them now (a rule added after the
fit, such as a veto, shows in the curve).

    .venv/bin/python bench/fit_abstention.py [--sets squad,seed,pdf] [--work /tmp/rag-quality] [--keep]
"""

from __future__ import annotations

import argparse
import dataclasses
import pprint
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.optimize import minimize
from sklearn.metrics import roc_auc_score

from quality import ROOT, Case, indexed, pdf_cases, seed_cases, set_arguments, squad_cases
from rag.answer.extractive import READ, Evidence, abstention_inputs, unread_logit
from rag.answer.features import ABSTAIN_FEATURES, FUSE_FEATURES, RANK_FEATURES, UNIT_FEATURES, Question
from rag.answer.model import Logistic, weights
from rag.answer.reader import Reading, reader
from rag.answer.strength import words
from rag.metrics import contains_answer
from rag.service import Rag
from rag.testsets import write_corpus

MAX_WORDS = 27          # SQuAD's target is a median of at most 28 words: one word of headroom
REFUSE_AT_MOST = 0.09   # the issue allows 10% answerable refused: one point of headroom for new questions
PROSE_COST = 0.01       # issue 13: what other work may cost prose, in SQuAD gold in answer; refusals spend it
MEASURABLE = 50         # answerable questions a dev half needs for its refusal rate to bind the threshold
MARGINS = np.arange(0.0, 3.01, 0.25)
# +1: the weight may not be negative, -1: not positive, 0: free (a table row is neither better nor worse)
SIGNS = {"cosine": 1, "coverage": 1, "retrieval": 1, "kind_held": 1, "kind_missing": -1, "number_by_focus": 1, "top_document": 1, "document_named": 1,
         "best_logit": 1, "margin": 1, "best_cosine": 1, "best_coverage": 1, "top_retrieval": 1, "unnamed_terms": -1,
         "polarity_missing": -1, "kind_wanted": 0, "max_missing_idf": -1, "chunk_coverage": 1,
         "lexical": 1, "reader": 1}
OUT = ROOT / "bench/out"
Models = tuple[Logistic, Logistic]  # the lexical ranker and the fuser
FITTED = ROOT / "rag/answer/fitted.py"


@dataclass
class Asked:
    """One question with every candidate unit the answerer considered, as it considered them."""

    set: str
    case: Case
    question: Question
    units: list[Evidence]
    documents: list[str]            # the page of each unit, for the names the question has and it lacks
    labels: np.ndarray = field(default_factory=lambda: np.zeros(0))
    readings: np.ndarray = field(default_factory=lambda: np.zeros(0))  # the reader's logit of every unit


def collect(name: str, rag: Rag, cases: list[Case]) -> list[Asked]:
    answerer = rag.answerer
    out = []
    for case in cases:
        q = case.item.question
        vector = rag.embedder.encode([q])[0]
        units = answerer.rank(q, vector, answerer.retrieve(q, None, vector)[1])
        documents = [answerer._document(u, units) for u in units]
        asked = Asked(name, case, Question(q, q, rag.retriever.idf), units, documents)
        asked.labels = np.array([case.item.answerable and contains_answer(u.text, case.item.answers) for u in units],
                                dtype=float)
        asked.readings = np.array([r.logit for r in reader().read(q, [u.text for u in units])])
        out.append(asked)
    return out


def set_weights(data: list[Asked]) -> np.ndarray:
    """1/sqrt(n) for each question of a set of n, scaled to a mean of 1."""
    sizes = {name: sum(a.set == name for a in data) for name in {a.set for a in data}}
    weight = np.array([1.0 / np.sqrt(sizes[a.set]) for a in data])
    return weight / weight.mean()


def bounds(features: tuple[str, ...]) -> list[tuple[float | None, float | None]]:
    return [{1: (0.0, None), -1: (None, 0.0), 0: (None, None)}[SIGNS[name]] for name in features]


def standardised(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean, scale = rows.mean(axis=0), rows.std(axis=0)
    scale[scale == 0] = 1.0
    return mean, scale


def conditional_logit(groups: list[Asked], rows: list[np.ndarray], features: tuple[str, ...]) -> Logistic:
    """Maximise each question's log-probability of its gold units (weighted), over its units' `rows`."""
    weight = set_weights(groups)
    mean, scale = standardised(np.concatenate(rows))
    xs = [(x - mean) / scale for x in rows]

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        total, grad = 0.5 * w @ w, w.copy()  # L2, C = 1
        for x, a, v in zip(xs, groups, weight):
            s = x @ w
            e = np.exp(s - s.max())
            gold = a.labels > 0
            total -= v * (np.log(e[gold].sum()) - np.log(e.sum()))
            grad -= v * ((e * gold) / e[gold].sum() - e / e.sum()) @ x
        return total, grad

    w = minimize(loss, np.zeros(len(features)), jac=True, method="L-BFGS-B", bounds=bounds(features)).x
    return Logistic(features, w, 0.0, mean, scale)


def gold_groups(data: list[Asked]) -> list[Asked]:
    return [a for a in data if a.case.item.answerable and a.units and a.labels.any()]


def fit_models(data: list[Asked]) -> Models:
    """The lexical ranker on the units' features, then the fuser on its logit and the reader's."""
    groups = gold_groups(data)
    columns = [UNIT_FEATURES.index(name) for name in RANK_FEATURES]
    ranker = conditional_logit(groups, [np.stack([u.row[columns] for u in a.units]) for a in groups], RANK_FEATURES)
    fuser = conditional_logit(groups, [fuse_rows(a, ranker)[0] for a in groups], FUSE_FEATURES)
    return ranker, fuser


def fuse_rows(asked: Asked, ranker: Logistic) -> tuple[np.ndarray, np.ndarray]:
    """(the fuser's rows of every unit, which units the reader reads), as rag.answer.extractive.read
    makes them: the READ lexically best are read, the others take the worst reading among those."""
    lexical = ranker.logits(np.stack([u.row for u in asked.units]), UNIT_FEATURES)
    read = np.zeros(len(lexical), dtype=bool)
    read[np.argsort(-lexical, kind="stable")[:READ]] = True
    return np.column_stack([lexical, np.where(read, asked.readings, asked.readings[read].min())]), read


def read_recall(data: list[Asked], ranker: Logistic) -> str:
    """How often the lexical ranker's best n units hold a gold unit, of the questions whose units do."""
    groups = gold_groups(data)
    ranks = [int(np.flatnonzero(a.labels[np.argsort(-ranker.logits(np.stack([u.row for u in a.units]), UNIT_FEATURES),
                                                    kind="stable")] > 0)[0]) for a in groups]
    return ", ".join(f"top {n}: {np.mean([r < n for r in ranks]):.3f}" for n in (1, 4, 8, 12, 16))


def fit_abstainer(rows: np.ndarray, labels: np.ndarray, weight: np.ndarray, sets: np.ndarray) -> Logistic:
    """Answerable or not, classes balanced within the weighted data: a weighted, L2-regularised (C = 1)
    logistic regression with the weights' signs bounded and an intercept of its own for each set, so
    the slopes learn what tells answerable from unanswerable within a set. Pooled, the sets' levels
    differ more than their classes do (the reader's mean logit for an answerable question: SQuAD 4.0,
    seed 1.1, PDFs 0.5; for an unanswerable one 2.1, 0.4, -0.1), and one pooled intercept gave the
    reader a weight of 0 (within-set AUC on the dev halves, pooled intercept -> one per set: SQuAD
    0.68 -> 0.71, seed 0.47 -> 0.61, PDFs 0.73 -> 0.81). The shipped intercept is the sets' mean; the
    threshold is chosen on the probabilities it gives."""
    mean, scale = standardised(rows)
    x = (rows - mean) / scale
    names = sorted(set(sets))
    dummies = np.column_stack([(sets == name).astype(float) for name in names])
    positive = np.average(labels, weights=weight)
    weight = weight * np.where(labels > 0, 0.5 / positive, 0.5 / (1 - positive))
    k = len(ABSTAIN_FEATURES)

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        p = 1.0 / (1.0 + np.exp(-(x @ theta[:k] + dummies @ theta[k:])))
        log_likelihood = labels * np.log(p + 1e-12) + (1 - labels) * np.log(1 - p + 1e-12)
        total = 0.5 * theta[:k] @ theta[:k] - weight @ log_likelihood
        g = weight * (p - labels)
        return total, np.concatenate([x.T @ g + theta[:k], dummies.T @ g])

    theta = minimize(loss, np.zeros(k + len(names)), jac=True, method="L-BFGS-B",
                     bounds=[*bounds(ABSTAIN_FEATURES), *[(None, None)] * len(names)]).x
    return Logistic(ABSTAIN_FEATURES, theta[:k], float(theta[k:].mean()), mean, scale)


def scored(asked: Asked, models: Models) -> list[Evidence]:
    """The units as the answerer scores them under these models (index order, not sorted)."""
    rows, read = fuse_rows(asked, models[0])
    logits = models[1].logits(rows)
    return [dataclasses.replace(u, score=float(z), lexical=float(row[0]),
                                reading=Reading(float(row[1]), 0, 0) if r else None)
            for u, z, row, r in zip(asked.units, logits, rows, read)]


def order(asked: Asked, models: Models) -> tuple[list[int], np.ndarray]:
    """The units' indices best first under these models, and their logits."""
    logits = np.array([u.score for u in scored(asked, models)])
    return list(np.argsort(-logits, kind="stable")), logits


def answer_of(asked: Asked, models: Models, margin: float) -> tuple[str, int, float, float]:
    """(answer text, index of the best unit, best logit, runner-up logit) under these models and margin."""
    idx, logits = order(asked, models)
    best = idx[0]
    second = logits[idx[1]] if len(idx) > 1 else logits[best] - 10.0
    chosen = [asked.units[best].text] + ([asked.units[idx[1]].text] if logits[best] - second <= margin else [])
    return " ".join(chosen), best, float(logits[best]), float(second)


def abstain_rows(data: list[Asked], models: Models, margin: float) -> tuple[np.ndarray, list[str], np.ndarray]:
    """The abstainer's rows (NaN when nothing was retrieved), the answers, and which are vetoed."""
    rows, answers, vetoes = [], [], []
    for asked in data:
        if not asked.units:
            rows.append(np.full(len(ABSTAIN_FEATURES), np.nan))
            answers.append("")
            vetoes.append(True)
            continue
        text, best, logit, second = answer_of(asked, models, margin)
        units = scored(asked, models)
        row, veto = abstention_inputs(asked.question, units[best], logit, second, units, asked.documents[best])
        rows.append(row)
        answers.append(text)
        vetoes.append(veto is not None)
    return np.array(rows), answers, np.array(vetoes)


def figures(data: list[Asked], answers: list[str], p: np.ndarray, threshold: float) -> dict:
    ans = [i for i, a in enumerate(data) if a.case.item.answerable]
    una = [i for i, a in enumerate(data) if a.case.item.answerable is False]
    refused = p < threshold
    return {"gold_in_answer": np.mean([not refused[i] and contains_answer(answers[i], data[i].case.item.answers)
                                       for i in ans]) if ans else None,
            "raw_gold_in_answer": np.mean([contains_answer(answers[i], data[i].case.item.answers) for i in ans])
            if ans else None,
            "answerable_refused": np.mean(refused[ans]) if ans else None,
            "unanswerable_abstained": np.mean(refused[una]) if una else None,
            "median_words": statistics.median(len(answers[i].split()) for i in range(len(data)) if not refused[i])
            if (~refused).any() else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    set_arguments(parser, "squad,seed,pdf", "/tmp/rag-quality")
    parser.add_argument("--keep", action="store_true",
                        help="report the models in use (rag/answer/fitted.py) on the current features, without refitting")
    args = parser.parse_args()
    wanted = args.sets.split(",")
    print(f"# bench/fit_abstention.py {time.strftime('%Y-%m-%d')}; command: "
          f"{' '.join([Path(sys.executable).name, *sys.argv])}")
    data: list[Asked] = []
    embedder = None
    for name in wanted:
        if name == "squad":
            paragraphs, cases = squad_cases(args.squad)
            rag = indexed(args.work, "squad", write_corpus(paragraphs, args.work / "squad-docs"), embedder, {})
        elif name == "seed":
            cases = seed_cases(ROOT / "tests/data/seed_qa.jsonl")
            rag = indexed(args.work, "seed", ROOT / "seeds", embedder, {})
        else:
            cases, rag = pdf_cases(ROOT / "bench/data/pdf_qa.jsonl"), indexed(args.work, "pdf", args.pdfs, embedder, {})
        embedder = rag.embedder
        data += collect(name, rag, cases)
        print(f"{name}: {len(cases)} questions collected")
    dev = [a for a in data if a.case.half == "dev"]
    test = [a for a in data if a.case.half == "test"]
    if args.keep:
        w = weights()
        models, abstainer, margin, threshold = (w.ranker, w.fuser), w.abstainer, w.runner_up_margin, w.abstain_below
        print(f"the models in use ({w.fitted_on}): runner-up margin {margin}, abstain below {threshold}")
    else:
        models, abstainer, margin, threshold = fit(dev, wanted)
    print(f"\nthe lexical ranker's best units hold the gold unit (dev halves): {read_recall(dev, models[0])}")
    dev_rows, dev_answers, dev_vetoed = abstain_rows(dev, models, margin)
    p_dev = probabilities(abstainer, dev_rows, dev_vetoed)
    test_rows, test_answers, test_vetoed = abstain_rows(test, models, margin)
    p_test = probabilities(abstainer, test_rows, test_vetoed)
    report(dev, dev_answers, p_dev, test, test_answers, p_test, threshold)
    print(f"\nstrength bands (rag/answer/strength.py): {strength_bands(dev, models, margin)} on the dev halves, "
          f"{strength_bands(test, models, margin)} on the test halves")


def strength_bands(data: list[Asked], models: Models, margin: float) -> str:
    """How often the best unit holds the gold, by the band of the reader's probability for it (the
    words the faces show: weak, moderate, strong), over the answerable questions with units."""
    bands: dict[str, list[bool]] = {"weak": [], "moderate": [], "strong": []}
    for asked in data:
        if not (asked.case.item.answerable and asked.units):
            continue
        best, units = answer_of(asked, models, margin)[1], scored(asked, models)
        reading = units[best].reading or Reading(unread_logit(u.reading for u in units if u.reading), 0, 0)
        bands[words(reading.probability)].append(bool(asked.labels[best]))
    return ", ".join(f"{band} {np.mean(v):.2f} of {len(v)}" if v else f"{band} -" for band, v in bands.items())


def fit(dev: list[Asked], wanted: list[str]) -> tuple[Models, Logistic, float, float]:
    """Fit the ranker and the fuser, the margin, the abstainer and its threshold on the dev halves, and
    write them to rag/answer/fitted.py."""
    # 1. the lexical ranker and the fuser, on the dev halves' answerable questions
    models = fit_models(dev)

    # 2. the runner-up margin, on SQuAD's dev half (the set whose answer length the issue bounds)
    squad_dev = [a for a in dev if a.set == "squad" and a.units] or [a for a in dev if a.units]
    best_margin, best_gold = 0.0, -1.0
    for margin in MARGINS:
        answers = [answer_of(a, models, margin)[0] for a in squad_dev]
        gold = np.mean([contains_answer(t, a.case.item.answers) for t, a in zip(answers, squad_dev)
                        if a.case.item.answerable])
        words = statistics.median(len(t.split()) for t in answers)
        print(f"  margin {margin:.2f}: dev gold in answer (no abstention) {gold:.3f}, median {words} words")
        if words <= MAX_WORDS and gold > best_gold:
            best_margin, best_gold = float(margin), gold

    # 3. the abstainer, on every dev question, and its threshold
    dev_rows, dev_answers, dev_vetoed = abstain_rows(dev, models, best_margin)
    abstainer = fit_abstainer_on(dev, dev_rows, dev_vetoed)
    p_cross = cross_fitted(dev, best_margin)
    threshold = min(operating_threshold(dev, p_cross), prose_bound(dev, dev_answers, p_cross))

    fitted = {"ranker": models[0].to_dict(), "fuser": models[1].to_dict(), "abstainer": abstainer.to_dict(), "abstain_below": threshold,
              "runner_up_margin": best_margin,
              "fitted_on": f"dev halves of {', '.join(wanted)} ({len(dev)} questions), {time.strftime('%Y-%m-%d')}"}
    FITTED.write_text('"""Written by bench/fit_abstention.py: do not edit by hand."""\n\nFITTED = '
                      + pprint.pformat(fitted, width=116, sort_dicts=False) + "\n", encoding="utf-8")
    weights.cache_clear()
    print(f"ranker: {dict(zip(RANK_FEATURES, models[0].coef.round(3)))}")
    print(f"fuser: {dict(zip(FUSE_FEATURES, models[1].coef.round(3)))}")
    print(f"abstainer: {dict(zip(ABSTAIN_FEATURES, abstainer.coef.round(3)))}")
    print(f"runner-up margin {best_margin}, abstain below P(answerable) {threshold}; wrote {FITTED.relative_to(ROOT)}")
    return models, abstainer, best_margin, threshold


def fit_abstainer_on(data: list[Asked], rows: np.ndarray, vetoed: np.ndarray) -> Logistic:
    """The vetoes decide the vetoed questions; the abstainer learns the rest."""
    keep = ~vetoed
    return fit_abstainer(rows[keep], answerable(data)[keep].astype(float), set_weights(data)[keep],
                         np.array([a.set for a in data])[keep])


def answerable(data: list[Asked]) -> np.ndarray:
    return np.array([bool(a.case.item.answerable) for a in data])


def prose_bound(dev: list[Asked], answers: list[str], p: np.ndarray) -> float:
    """The highest threshold whose refusals cost SQuAD's dev half at most PROSE_COST of gold in
    answer against the vetoes alone (threshold 0)."""
    idx = [i for i, a in enumerate(dev) if a.set == "squad"]
    if not idx:
        return 1.0
    data, said, probs = [dev[i] for i in idx], [answers[i] for i in idx], p[idx]
    floor = figures(data, said, probs, 0.0)["gold_in_answer"] - PROSE_COST
    candidates = sorted({0.0, *np.round(probs[np.isfinite(probs)], 4).tolist()})
    return max(t for t in candidates if figures(data, said, probs, t)["gold_in_answer"] >= floor)


def operating_threshold(data: list[Asked], p: np.ndarray) -> float:
    """The strictest of the sets' operating points, over the sets that can measure one."""
    flags, names = answerable(data), np.array([a.set for a in data])
    return min(operating_point(p[flags & (names == name)]) for name in set(names)
               if (flags & (names == name)).sum() >= MEASURABLE)


def fold(asked: Asked) -> str:
    """The folds of the cross-fit: SQuAD by article, the PDFs by folder (kind of document), the seed set
    whole. Each is unlike the others the way a held-out set is unlike the dev halves."""
    if asked.set == "squad":
        return f"squad:{(asked.case.item.source or '').split('_')[0]}"
    return f"pdf:{asked.case.source.split('/')[0]}" if asked.set == "pdf" else asked.set


def cross_fitted(dev: list[Asked], margin: float) -> np.ndarray:
    """Every dev question's P(answerable) from models fitted on the other folds' questions: the
    operating point is chosen on these, as a model meets questions it was not fitted on. Prints, per
    set, how the out-of-fold models did."""
    folds = np.array([fold(a) for a in dev])
    p, right = np.zeros(len(dev)), np.zeros(len(dev), dtype=bool)
    for held in sorted(set(folds)):
        train, idx = [a for a, f in zip(dev, folds) if f != held], np.flatnonzero(folds == held)
        models = fit_models(train)
        rows, _, vetoed = abstain_rows(train, models, margin)
        abstainer = fit_abstainer_on(train, rows, vetoed)
        rows, _, vetoed = abstain_rows([dev[i] for i in idx], models, margin)
        p[idx] = probabilities(abstainer, rows, vetoed)
        right[idx] = [bool(dev[i].units) and dev[i].labels[order(dev[i], models)[0][0]] > 0 for i in idx]
    print("\nCross-fitted (each fold answered by models fitted on the others; folds: "
          f"{', '.join(sorted(set(folds)))}):")
    print("| set | top unit right | abstainer AUC (not vetoed) |\n|---|---|---|")
    flags, names = answerable(dev), np.array([a.set for a in dev])
    for name in dict.fromkeys(names):
        mine, scored = names == name, (names == name) & np.isfinite(p)
        auc = roc_auc_score(flags[scored], p[scored]) if len(set(flags[scored])) == 2 else float("nan")
        print(f"| {name} | {right[mine & flags].mean():.3f} | {auc:.3f} |")
    return p


def operating_point(p: np.ndarray) -> float:
    """The highest threshold that refuses at most REFUSE_AT_MOST of these answerable questions
    (a question is refused when its probability is below the threshold; a vetoed one has -inf).
    When the vetoes alone spend the budget, the abstainer refuses nothing more: 0."""
    ranked = np.sort(p)
    n = int(np.floor(REFUSE_AT_MOST * len(ranked)))  # this many may be refused
    return round(max(float(ranked[n]), 0.0), 4) if n < len(ranked) else 1.0


def probabilities(model: Logistic, rows: np.ndarray, vetoes: np.ndarray) -> np.ndarray:
    """P(answerable) per row; -inf for a vetoed question (refused at any threshold)."""
    p = np.full(len(rows), -np.inf)
    keep = ~vetoes
    if keep.any():
        p[keep] = 1.0 / (1.0 + np.exp(-model.logits(rows[keep])))
    return p


def report(dev, dev_answers, p_dev, test, test_answers, p_test, threshold: float) -> None:
    """Per set and half at the chosen threshold, then the test halves' whole curve (table and plot)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    print("\n| set | half | gold in answer | raw gold (no abstention) | answerable refused | unanswerable abstained "
          "| median words |\n|---|---|---|---|---|---|---|")
    for half, data, answers, p in (("dev", dev, dev_answers, p_dev), ("test", test, test_answers, p_test)):
        for name in dict.fromkeys(a.set for a in data):
            idx = [i for i, a in enumerate(data) if a.set == name]
            f = figures([data[i] for i in idx], [answers[i] for i in idx], p[idx], threshold)
            print(f"| {name} | {half} | " + " | ".join(_fmt(f[k]) for k in ("gold_in_answer", "raw_gold_in_answer",
                  "answerable_refused", "unanswerable_abstained", "median_words")) + " |")
    print("\nTest halves, the whole trade-off (answerable refused / unanswerable abstained):")
    sets = list(dict.fromkeys(a.set for a in test))
    print("| threshold | " + " | ".join(sets) + " |\n|---|" + "---|" * len(sets))
    fig, ax = plt.subplots(figsize=(6, 4))
    grid = np.round(np.arange(0.05, 0.96, 0.05), 2)
    for name in sets:
        idx = [i for i, a in enumerate(test) if a.set == name]
        curve = [figures([test[i] for i in idx], [test_answers[i] for i in idx], p_test[idx], t) for t in grid]
        ax.plot([c["answerable_refused"] for c in curve], [c["unanswerable_abstained"] or 0 for c in curve],
                marker=".", label=f"{name} (test half)")
        at = figures([test[i] for i in idx], [test_answers[i] for i in idx], p_test[idx], threshold)
        ax.scatter([at["answerable_refused"]], [at["unanswerable_abstained"] or 0], color="red", zorder=3)
    for t in sorted(set(grid.tolist()) | {threshold}):
        cells = []
        for name in sets:
            idx = [i for i, a in enumerate(test) if a.set == name]
            c = figures([test[i] for i in idx], [test_answers[i] for i in idx], p_test[idx], t)
            cells.append(f"{_fmt(c['answerable_refused'])} / {_fmt(c['unanswerable_abstained'])}")
        mark = "**" if t == threshold else ""
        print(f"| {mark}{t:.4g}{mark} | " + " | ".join(cells) + " |")
    ax.axvline(0.10, color="grey", linestyle=":")
    ax.set(title="Abstention trade-off on the test halves (red: the fitted threshold)", xlabel="answerable refused",
           ylabel="unanswerable abstained", xlim=(0, 1), ylim=(0, 1))
    ax.legend()
    OUT.mkdir(parents=True, exist_ok=True)
    fig.savefig(OUT / "abstention.png", dpi=110, bbox_inches="tight")
    print(f"\nwrote {(OUT / 'abstention.png').relative_to(ROOT)}")


def _fmt(value) -> str:
    return "" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


if __name__ == "__main__":
    main()
