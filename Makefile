# Two commands a newcomer needs: `make build` and `make test`. Both set everything up first
# (scripts/setup.sh: system libraries and fonts when this machine can install them, named when
# it cannot; then a virtualenv in .venv), so they work on a fresh machine, with or without root.

BIN := .venv/bin

.PHONY: build test docs setup setup-test lint clean

build: setup
	$(BIN)/handout build

# Each xdist worker compiles every test module it collects: where PYTHONDONTWRITEBYTECODE is
# set, it would do so again on every run (2 s a worker), so the suite keeps its bytecode.
test: setup-test lint
	PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -n auto --dist loadgroup --durations=10

# The documentation site from docs/, served while you edit (tests/test_docs.py builds it).
docs: setup-test
	$(BIN)/mkdocs serve -a 127.0.0.1:8001

lint: setup-test
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/mypy src

# What `handout` needs.
setup:
	sh scripts/setup.sh

# Also what the tests need (and Chromium, for the print desk's one end-to-end test).
setup-test:
	sh scripts/setup.sh --test

clean:
	rm -rf build .venv
