# diskless.datacenter: every target installs what it needs first (make setup is idempotent).
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := $(CURDIR)/.venv
export PATH := $(VENV)/bin:$(PATH)
export CONTAINERS_CONF := $(CURDIR)/tools/podman/containers.conf
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.build/collections
export ANSIBLE_FORCE_COLOR := 0
export PY_COLORS := 0
PY_DIRS := $(wildcard plugins tests benchmarks lab tools extensions)
SCENARIOS := $(sort $(notdir $(patsubst %/molecule.yml,%,$(wildcard extensions/molecule/*/molecule.yml))))

.PHONY: help setup pristine lab lab-down test lint sanity unit functional molecule e2e build benchmarks

help:
	@echo "make lab       install everything, bring up the virtual lab and run site.yml against inventories/lab"
	@echo "make lab-down  stop everything the lab started"
	@echo "make test      install everything and run every test (lint, sanity, unit, functional, Molecule, end-to-end)"
	@echo "make pristine  run tools/setup.sh in a pristine Debian 12 root and prove podman and the venv work there"
	@echo "make molecule SCENARIOS=dnsmasq   run one Molecule scenario"

setup:
	@tools/setup.sh

# The install path in a pristine Debian 12 root: what this machine already has cannot hide a missing package.
pristine: setup
	@tools/pristine-check.sh

lab: setup
	@python -m lab up

lab-down: setup
	@python -m lab down

TEST_STAGES := pristine lint sanity unit functional molecule e2e
# Each stage in turn, with its time (where CI's time goes); the first failing stage stops the run.
test: setup
	@set -e; total=$$(date +%s); for stage in $(TEST_STAGES); do \
	  start=$$(date +%s); $(MAKE) --no-print-directory $$stage; \
	  echo "make test: stage $$stage passed in $$(( $$(date +%s) - start )) s"; \
	done; echo "make test: all test stages passed in $$(( $$(date +%s) - total )) s"

lint: setup
	ruff check $(PY_DIRS)
	ruff format --check $(PY_DIRS)
	mypy -p ansible_collections.diskless.datacenter.plugins -p lab
	ansible-lint

sanity: setup
	@tools/sanity.sh

unit: setup
	pytest tests/unit

functional: setup
	pytest tests/functional

molecule: setup
	@set -e; for scenario in $(SCENARIOS); do echo "== molecule test -s $$scenario"; start=$$(date +%s); \
	  molecule test -s $$scenario; echo "molecule: $$scenario passed in $$(( $$(date +%s) - start )) s"; done

e2e: setup
	@if [ -d tests/e2e ] && ls tests/e2e/test_*.py >/dev/null 2>&1; then pytest tests/e2e; else echo "e2e: no end-to-end tests yet"; fi

build: setup
	ansible-galaxy collection build --force --output-path .build/dist

benchmarks: setup
	@set -e; for bench in benchmarks/*.py; do echo "== $$bench"; python $$bench; done
