# One place for chores. Every target creates .venv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test demo lint bench docs oas clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/pytest

demo: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/demo.sh

lint: $(STAMP)
	$(BIN)/ruff check deskctl tests
	$(BIN)/mypy deskctl

bench: $(STAMP)
	@if [ -d bench ]; then $(BIN)/python -m bench; else echo "no benchmarks yet"; fi

clean:
	rm -rf $(VENV) .demo .pytest_cache .mypy_cache .ruff_cache

# Zoho's OpenAPI facts the project checks against, from copies of Zoho's OpenAPI folders:
# make oas OAS_DIRS="DESK_OAS_DIR CRM_OAS_DIR" (the script says so when they are missing)
oas: $(STAMP)
	$(BIN)/python scripts/oas_extract.py $(OAS_DIRS)

docs: $(STAMP)
	$(BIN)/python -m deskctl.clidoc > docs/cli.md
