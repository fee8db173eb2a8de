# Two commands: `make run` and `make test`. Each installs what it needs first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install run test lint format bench chromium postgresql clean messages

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

chromium:
	@[ -x $(CHROMIUM) ] || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium; }

# The tests start their own throw-away PostgreSQL server from Debian's binaries (R39).
postgresql:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq postgresql; }

run: install
	$(BIN)/portal-ui seed --demo --if-empty
	$(BIN)/portal-ui serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: install chromium postgresql lint
	$(BIN)/pytest -q

bench: install chromium
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) portal.db* .portal-secret test-output

# Translations: extract every _() / N_() string and update the fr, es, it catalogues.
messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _ -k N_ -k ngettext:1,2 --no-location --sort-output -o portal_ui/locale/messages.pot .
	for lang in fr es it; do \
	  if [ -f portal_ui/locale/$$lang/LC_MESSAGES/messages.po ]; then \
	    $(BIN)/pybabel update --no-fuzzy-matching --ignore-obsolete -i portal_ui/locale/messages.pot -d portal_ui/locale -l $$lang; \
	  else \
	    $(BIN)/pybabel init -i portal_ui/locale/messages.pot -d portal_ui/locale -l $$lang; \
	  fi; \
	done
