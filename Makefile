# The two commands a newcomer runs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO := build/demo
REPO ?=

.PHONY: demo test lint typecheck unit bench verify-ledger clean system-deps

# What the tests need from the system: PDF text and pictures (poppler-utils), a headless browser
# for the HTML site (chromium), signature verification (gnupg, openssh-client), WeasyPrint's
# Pango and HarfBuzz, and a font. Installed with apt-get where it is there and may be used.
DEB_PACKAGES := poppler-utils chromium fonts-dejavu-core gnupg openssh-client \
	libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0
SYSTEM_TOOLS := pdftoppm pdftotext chromium gpg ssh-keygen
SYSTEM_LIBS := libpango-1.0.so libpangoft2-1.0.so libharfbuzz-subset.so

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
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q

# Prints what is missing of them (nothing when all is there).
MISSING = for tool in $(SYSTEM_TOOLS); do command -v $$tool >/dev/null 2>&1 || printf ' %s' $$tool; done; \
	for lib in $(SYSTEM_LIBS); do /sbin/ldconfig -p 2>/dev/null | grep -q "$$lib" || printf ' %s' $$lib; done

system-deps:
	@missing=$$($(MISSING)); [ -z "$$missing" ] && exit 0; \
	if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then as=""; \
	elif command -v apt-get >/dev/null 2>&1 && sudo -n true 2>/dev/null; then as="sudo -n"; \
	else echo "make test needs$$missing: install them with 'sudo apt-get install $(DEB_PACKAGES)'" >&2; exit 1; fi; \
	echo "make test needs$$missing: installing the Debian packages $(DEB_PACKAGES)"; \
	$$as env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	$$as env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		$(DEB_PACKAGES) >/dev/null || exit 1; \
	missing=$$($(MISSING)); [ -z "$$missing" ] || { echo "still missing after apt-get:$$missing" >&2; exit 1; }

test: system-deps lint typecheck unit

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/analysis.py --commits 5000 --files 1000 --repeat 3
	$(BIN)/python benchmarks/many.py
	$(BIN)/python benchmarks/pack.py --repeat 3
	$(BIN)/python benchmarks/deployments.py --repeat 3
	$(BIN)/python benchmarks/scale.py --repeat 3

verify-ledger: $(STAMP)
	@test -n "$(REPO)" || { echo "usage: make verify-ledger REPO=path/to/repository"; exit 2; }
	$(BIN)/python -m auditor.ledger.crosscheck "$(REPO)"

clean:
	rm -rf build $(VENV) *.egg-info .pytest_cache .mypy_cache .ruff_cache
