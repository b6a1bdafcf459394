# Two commands do everything on a fresh machine with Python >= 3.11 and make:
#   make demo   -> .venv, install, tag the demo transcripts, write reports to out/
#   make test   -> .venv, install with dev extras, ruff, mypy, then the whole pytest suite
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
	$(QCODE) report frequencies --db $(DEMO_DB) --level 1 -o out/frequencies.md --plot out/frequencies.png
	$(QCODE) report frequencies --db $(DEMO_DB) -o out/frequencies.xlsx
	$(QCODE) report frequencies --db $(DEMO_DB) --level 1 --excel -o out/frequencies-excel.csv
	$(QCODE) report cooccurrence --db $(DEMO_DB) -o out/cooccurrence.md --plot out/cooccurrence.png
	$(QCODE) quotes --db $(DEMO_DB) -o out/quotes.md
	$(QCODE) quotes --db $(DEMO_DB) -o out/quotes.docx
	$(QCODE) quotes --db $(DEMO_DB) --matrix --by main_group -o out/quote-matrix.xlsx
	$(QCODE) quotes --db $(DEMO_DB) --matrix --by main_group -o out/quote-matrix.docx
	$(QCODE) search tystnadsplikt sekretess --lemma --db $(DEMO_DB) -o out/search.md
	$(QCODE) crosstab --db $(DEMO_DB) --survey data/survey/synthetic-respondents.csv \
		-o out/crosstab.md --plot out/crosstab.png
	$(QCODE) crosstab --db $(DEMO_DB) --survey data/survey/synthetic-respondents.csv -o out/crosstab.xlsx
	$(QCODE) report frequencies --db $(DEMO_DB) --level 1 --lang en -o out/en/frequencies.md \
		--plot out/en/frequencies.png
	$(QCODE) quotes --db $(DEMO_DB) --lang en -o out/en/quotes.docx
	$(QCODE) crosstab --db $(DEMO_DB) --survey data/survey/synthetic-respondents.csv --lang en \
		-o out/en/crosstab.html --plot out/en/crosstab.png
	$(QCODE) check-privacy --db $(DEMO_DB) out/

LINTED := src tests benchmarks scripts

test: install-dev
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -n auto --durations=10

bench: install-dev
	$(BIN)/python benchmarks/bench_tag.py --repeat 3
	$(BIN)/python benchmarks/bench_startup.py --repeat 5

clean:
	rm -rf out .pytest_cache build src/*.egg-info
