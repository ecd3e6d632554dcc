# Two commands a newcomer needs: `make build` and `make test`. Both set everything up first
# (Debian packages when missing, then a virtualenv in .venv) so they work on a fresh machine.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# libharfbuzz-subset0: WeasyPrint subsets fonts with it (without it, ~5x slower, huge PDFs).
# Noto fonts cover every shipped script; poppler-utils gives pdftotext/pdftoppm for tests;
# chromium and its driver run the print desk's end-to-end test.
DEB_PACKAGES := libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-core \
	fonts-noto-cjk fonts-dejavu-core poppler-utils gettext chromium chromium-driver
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: build test setup system-deps lint clean

build: setup
	$(BIN)/handout build

test: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src
	$(BIN)/pytest -n auto --dist loadgroup

setup: system-deps $(VENV)/.installed

system-deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:" $$missing; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

clean:
	rm -rf build $(VENV)
