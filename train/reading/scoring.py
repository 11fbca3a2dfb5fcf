"""Scoring candidates with PyTorch or ONNX Runtime, and the dev metrics the checkpoint is chosen by."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from rag.answer.reader import best_spans
from rag.metrics import contains_answer, exact_match, token_f1
from reading import EVAL_PARAGRAPHS, MAX_ANSWER_TOKENS
from reading.batches import collate, encode_pairs
from reading.data import Bm25, Pair, prepare, stem_function


@dataclass
class EvalQuestion:
    question: str
    answers: list[str]      # empty: unanswerable
    units: list[str]        # every unit of the question's paragraph and of the 4 most similar others
    bm25: np.ndarray        # BM25 of each unit against the question (a lexical baseline)


def eval_questions(articles: list[dict], limit: int | None, seed: int) -> list[EvalQuestion]:
    """What retrieval would hand the answerer, roughly: the question's own paragraph and the 4 other
    paragraphs of its article closest to it by BM25, every unit of them."""
    stemmer = stem_function()
    out = []
    for article in articles:
        a = prepare(article, stemmer)
        paragraphs = Bm25([p["context"] for p in article["paragraphs"]], stemmer)
        where = {pu: k for k, pu in enumerate(a.flat)}
        for pi, paragraph in enumerate(article["paragraphs"]):
            for q in paragraph["qas"]:
                order = [int(i) for i in np.argsort(-paragraphs.scores(q["question"]), kind="stable") if i != pi]
                chosen = [pi] + order[:EVAL_PARAGRAPHS - 1]
                units = [u for p in chosen for u in a.units[p]]
                scores = a.bm25.scores(q["question"])
                lexical = np.array([scores[where[(p, u)]] for p in chosen for u in range(len(a.units[p]))])
                answers = [] if q.get("is_impossible") else [x["text"] for x in q["answers"]]
                out.append(EvalQuestion(q["question"], answers, units, lexical))
    if limit is not None and limit < len(out):
        out = random.Random(seed).sample(out, limit)
    return out


def score(pairs: list[tuple[str, str]], tok, forward, batch: int = 64) -> tuple[np.ndarray, list[str]]:
    """Answer logit and short answer text of every (question, unit) pair. `forward(ids, mask, types)`
    returns numpy (answer logits, start logits, end logits)."""
    encoded = encode_pairs(tok, [Pair(q, u, False) for q, u in pairs])
    order = sorted(range(len(pairs)), key=lambda i: len(encoded[i].ids))
    logits = np.zeros(len(pairs), dtype=np.float32)
    texts = [""] * len(pairs)
    for b in range(0, len(order), batch):
        rows = order[b:b + batch]
        ids, mask, types, unit = collate([encoded[i] for i in rows], pad_to=1)
        answer, start, end = forward(ids.numpy(), mask.numpy(), types.numpy())
        for r, i, (s, e) in zip(range(len(rows)), rows, best_spans(start, end, unit.numpy(), MAX_ANSWER_TOKENS)):
            logits[i] = answer[r]
            off = encoded[i].offsets
            texts[i] = pairs[i][1][off[s, 0]:off[e, 1]]
    return logits, texts


def auc(positive: list[float], negative: list[float]) -> float:
    """P(a random answerable question's score > a random unanswerable one's), ties half."""
    if not positive or not negative:
        return float("nan")
    values = np.concatenate([positive, negative])
    ranks = np.empty(len(values))
    order = np.argsort(values, kind="mergesort")
    ranks[order] = np.arange(1, len(values) + 1)
    for v in np.unique(values):  # average ranks of ties
        same = values == v
        if same.sum() > 1:
            ranks[same] = ranks[same].mean()
    return float((ranks[:len(positive)].sum() - len(positive) * (len(positive) + 1) / 2)
                 / (len(positive) * len(negative)))


def evaluate(questions: list[EvalQuestion], tok, forward) -> dict:
    """(a) top unit holds the gold answer text (answerable), with BM25's top unit beside it;
    (b) AUC of the max unit probability, answerable vs unanswerable; (c) exact match and F1 of the span
    head's answer in the top unit (answerable; a wrong top unit scores 0)."""
    pairs = [(q.question, u) for q in questions for u in q.units]
    started = time.time()
    logits, spans = score(pairs, tok, forward)
    seconds = time.time() - started
    top1, lexical, em, f1, best_ans, best_un = [], [], [], [], [], []
    k = 0
    for q in questions:
        n = len(q.units)
        mine, texts = logits[k:k + n], spans[k:k + n]
        k += n
        best = int(np.argmax(mine))
        if q.answers:
            best_ans.append(float(mine[best]))
            top1.append(contains_answer(q.units[best], q.answers))
            lexical.append(contains_answer(q.units[int(np.argmax(q.bm25))], q.answers))
            em.append(exact_match(texts[best], q.answers))
            f1.append(token_f1(texts[best], q.answers))
        else:
            best_un.append(float(mine[best]))
    mean = lambda xs: float(np.mean(xs)) if xs else float("nan")  # noqa: E731
    return {"answerable": len(top1), "unanswerable": len(best_un), "pairs": len(pairs),
            "top_unit_holds_gold": round(mean(top1), 4), "bm25_top_unit_holds_gold": round(mean(lexical), 4),
            "auc_answerable_vs_unanswerable": round(auc(best_ans, best_un), 4),
            "span_exact_match": round(mean(em), 4), "span_f1": round(mean(f1), 4),
            "ms_per_pair": round(1000 * seconds / max(1, len(pairs)), 2)}


def torch_forward(model):
    def forward(ids, mask, types):
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
            answer, start, end = model(torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(types))
        return answer.float().numpy(), start.float().numpy(), end.float().numpy()

    return forward


def onnx_session(path: Path, threads: int):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.add_session_config_entry("session.intra_op.spin_duration_us", "10")  # as rag.embeddings does
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def onnx_forward(session):
    def forward(ids, mask, types):
        return tuple(session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}))

    return forward
