# The two commands a newcomer runs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO := build/demo
REPO ?=

.PHONY: demo test lint typecheck unit bench verify-ledger clean

$(STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip 'setuptools>=69' wheel
	$(BIN)/python -m pip install --quiet -e '.[pdf,test]'
	touch $(STAMP)

demo: $(STAMP)
	rm -rf $(DEMO)
	$(BIN)/auditor demo $(DEMO)
	$(BIN)/auditor mine $(DEMO)/infra-live --store $(DEMO)/.auditor
	$(BIN)/auditor changes $(DEMO)/infra-live --store $(DEMO)/.auditor -o $(DEMO)/changes.csv
	@# The demo plants failing controls, so report exits 1 (controls failed): accepted here.
	@# Any other exit (2 bad input, 3 bug, 4 evidence incomplete) still fails make demo.
	@# Its config (auditor.toml) names the review data, the period, the allowed automation.
	$(BIN)/auditor report $(DEMO)/infra-live --config $(DEMO)/auditor.toml \
		--store $(DEMO)/.auditor --out $(DEMO)/pack --as-of 2026-10-01T00:00:00Z \
		--sample 5 --seed demo || test $$? -eq 1
	$(BIN)/auditor verify $(DEMO)/pack
	@echo
	@echo "Change ledger of the sample repository: $(DEMO)/changes.csv"
	@echo "Audit pack (failing controls are planted in the demo): $(DEMO)/pack"
	@echo "  HTML site:  $(DEMO)/pack/index.html"
	@echo "  PDF binder: $(DEMO)/pack/report.pdf"
	@echo "  verify it:  $(BIN)/auditor verify $(DEMO)/pack"

lint: $(STAMP)
	$(BIN)/ruff check auditor tests benchmarks
	$(BIN)/ruff format --check auditor tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q

test: lint typecheck unit

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/analysis.py --commits 5000 --files 1000 --repeat 3
	$(BIN)/python benchmarks/many.py
	$(BIN)/python benchmarks/pack.py --repeat 3

verify-ledger: $(STAMP)
	@test -n "$(REPO)" || { echo "usage: make verify-ledger REPO=path/to/repository"; exit 2; }
	$(BIN)/python -m auditor.crosscheck "$(REPO)"

clean:
	rm -rf build $(VENV) *.egg-info .pytest_cache .mypy_cache .ruff_cache
