# The two commands of the README: `make run` and `make test`. Everything else here serves them.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMPS := .stamps

.PHONY: run test lint typecheck pytest setup vendor system-packages messages compilemessages clean load-setup

run: setup
	DJANGO_ENV=demo $(PY) manage.py migrate --noinput -v0
	DJANGO_ENV=demo $(PY) manage.py seed_demo
	DJANGO_ENV=demo $(PY) manage.py load_demo_directory
	DJANGO_ENV=demo $(PY) manage.py seed_demo_referrals
	DJANGO_ENV=demo $(PY) manage.py collectstatic --noinput -v0
	DJANGO_ENV=demo bin/run-demo

test: setup lint typecheck pytest

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck:
	$(VENV)/bin/mypy .

pytest: setup system-packages
	$(VENV)/bin/pytest -n $${PYTEST_WORKERS:-2} $(PYTEST_ARGS)

setup: $(STAMPS)/python $(STAMPS)/node $(STAMPS)/vendor

$(STAMPS)/python: requirements/dev.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements/dev.lock
	@mkdir -p $(STAMPS) && touch $@

$(STAMPS)/node: package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@mkdir -p $(STAMPS) && touch $@

vendor: $(STAMPS)/vendor

$(STAMPS)/vendor: $(STAMPS)/node
	@rm -rf static/vendor && mkdir -p static/vendor/uswds static/vendor/htmx
	@cp -R node_modules/@uswds/uswds/dist/css node_modules/@uswds/uswds/dist/js \
		node_modules/@uswds/uswds/dist/img node_modules/@uswds/uswds/dist/fonts static/vendor/uswds/
	@cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx/
	@touch $@

system-packages:
	@bin/ensure-system-packages

# locust, for the cluster's load test (bench/load/), in its own environment: never in $(VENV).
load-setup: .venv-load/bin/locust

.venv-load/bin/locust: requirements/load.lock
	@test -x .venv-load/bin/python || $(PYTHON) -m venv .venv-load
	.venv-load/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements/load.lock
	@touch $@

messages:
	$(PY) manage.py makemessages -l es --ignore=.venv --ignore=node_modules --ignore=static --ignore=staticfiles --ignore='*/tests/*' --ignore=tests --ignore=docs --ignore=bench

compilemessages:
	$(PY) manage.py compilemessages -l es --ignore=.venv --ignore=node_modules

clean:
	rm -rf $(STAMPS) static/vendor staticfiles
