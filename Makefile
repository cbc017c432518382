# The two commands in the README are the contract:
#   make run   sets up and runs the bot on the embedded default (no accounts, no services)
#   make test  sets up and runs every test
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test check bench system-deps clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install -q -e '.[test]'
	touch $@

run: $(VENV)/.installed
	@FRONTDOOR_ENV=$${FRONTDOOR_ENV:-development} $(BIN)/frontdoor serve

system-deps:
	bash .ci/system-deps.sh

test: $(VENV)/.installed-test system-deps
	$(BIN)/frontdoor flow check
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

check: $(VENV)/.installed
	$(BIN)/frontdoor flow check

bench: $(VENV)/.installed-test
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
