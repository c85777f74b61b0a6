# accessctl: `make run` serves the demo region on http://127.0.0.1:8000, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: install run test lint bench bench-http bench-floor bench-scim clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/accessctl db upgrade
	$(BIN)/accessctl demo load --if-empty
	@echo
	@echo "accessctl serves on http://127.0.0.1:8000 (OpenAPI: /schema, readiness: /health/ready)"
	@echo "A token for the directory API:  $(BIN)/accessctl token issue --sub me --scope directory:read"
	@echo "Then: curl -H \"Authorization: Bearer \$$TOKEN\" http://127.0.0.1:8000/v1/organisations"
	@echo
	$(BIN)/accessctl serve

test: install
	$(BIN)/pytest -q -rs $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check accessctl tests migrations
	$(BIN)/ruff format --check accessctl tests migrations
	$(BIN)/mypy --strict accessctl tests
	$(BIN)/lint-imports

bench: install
	$(BIN)/accessctl bench

bench-http: install
	$(BIN)/accessctl bench http

bench-floor: install
	$(BIN)/accessctl bench floor

bench-scim: install
	$(BIN)/accessctl bench scim

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
