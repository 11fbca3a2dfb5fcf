"""The reading model's training in stages (data, batches, model, scoring, export), run by
train/reader.py. Importing the package first sets the threads' environment, before torch loads."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

# Before torch loads: OpenMP threads that spin while they wait thrash when the lead's tests hold the
# other core (a 32-pair step went from ~0.6 s to 2-7 s with two spinning threads on a busy machine).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

MAX_LENGTH = 96          # tokens of [CLS] question [SEP] unit [SEP]; the unit is cut, not the question
MAX_ANSWER_TOKENS = 30   # longest short answer the span decoder considers
DEV_TITLES_SECOND_VIEW = ("Normans", "Sky_(United_Kingdom)")  # of squad2_dev.json; Rhine is never read
EVAL_PARAGRAPHS = 5      # the question's paragraph + the 4 others of its article most like it (BM25)


class Log:
    """One line per event, to out/train.log and to stdout (once, if stdout is that same file)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
        try:
            same = os.fstat(sys.stdout.fileno()).st_ino == path.stat().st_ino
        except (OSError, ValueError):
            same = False
        self.file = None if same else path.open("a", buffering=1)

    def __call__(self, message: str) -> None:
        line = f"{time.strftime('%H:%M:%S')} {message}"
        print(line, flush=True)
        if self.file:
            self.file.write(line + "\n")
