# Two commands do everything on a fresh machine with Python >= 3.11 and make:
#   make demo   -> .venv, install, tag the demo transcripts, write reports to out/
#   make test   -> .venv, install with dev extras, run the whole pytest suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
QCODE  := $(BIN)/qcode
DEMO_DB := out/demo.db

.PHONY: demo test install install-dev clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .

install-dev: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'

demo: install
	rm -rf out && mkdir -p out
	$(QCODE) tag transcripts/ --db $(DEMO_DB) -o out/codings.csv

test: install-dev
	$(BIN)/python -m pytest -q

bench: install-dev
	$(BIN)/python benchmarks/bench_tag.py

clean:
	rm -rf out .pytest_cache build src/*.egg-info
