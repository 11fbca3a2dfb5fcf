"""The model (the installed MiniLM with an answer head and a span head) and its losses."""

from __future__ import annotations

from pathlib import Path

import torch



def make_model(model_path: Path):
    from transformers import BertModel
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # the unused pooler weights are expected
    hf_logging.disable_progress_bar()

    class Reader(torch.nn.Module):
        """MiniLM + a mean-pooled answer logit + per-token start/end logits."""

        def __init__(self) -> None:
            super().__init__()
            self.encoder = BertModel.from_pretrained(str(model_path), add_pooling_layer=False)
            hidden = self.encoder.config.hidden_size
            self.dropout = torch.nn.Dropout(0.1)
            self.answer = torch.nn.Linear(hidden, 1)
            self.span = torch.nn.Linear(hidden, 2)
            for layer in (self.answer, self.span):
                torch.nn.init.normal_(layer.weight, std=0.02)
                torch.nn.init.zeros_(layer.bias)
            torch.nn.init.constant_(self.answer.bias, -1.5)  # most candidates are negatives

        def forward(self, input_ids, attention_mask, token_type_ids):
            states = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                                  token_type_ids=token_type_ids).last_hidden_state
            weights = attention_mask.unsqueeze(-1).to(states.dtype)
            pooled = (states * weights).sum(1) / weights.sum(1).clamp(min=1.0)
            answer = self.answer(self.dropout(pooled)).squeeze(-1)
            start, end = self.span(states).unbind(-1)
            return answer, start, end

    return Reader()


def group_loss(logits, group_sizes: list[int], positives):
    """Softmax over each group's candidates plus a "no answer" logit fixed at 0: -log P(a positive),
    or -log P(no answer) for a group without one."""
    losses = []
    for chunk, pos in zip(torch.split(logits, group_sizes), torch.split(positives, group_sizes)):
        everything = torch.logsumexp(torch.cat([chunk.new_zeros(1), chunk]), 0)
        target = torch.logsumexp(chunk[pos], 0) if pos.any() else chunk.new_zeros(())
        losses.append(everything - target)
    return torch.stack(losses).mean()


def span_loss(start, end, unit_mask, starts, ends):
    """Cross-entropy of the gold start and end token among the unit's tokens, for pairs that have one."""
    has = starts >= 0
    if not has.any():
        return start.new_zeros(())
    blocked = ~unit_mask[has]
    s = start[has].masked_fill(blocked, -1e4)
    e = end[has].masked_fill(blocked, -1e4)
    ce = torch.nn.functional.cross_entropy
    return (ce(s, starts[has]) + ce(e, ends[has])) / 2
