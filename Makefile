# edgefleet.k3s: developer and CI entry points. Everything runs as root on a Debian 12 machine with
# podman, runc and debootstrap (see .ci/run); each target sets up what it needs itself.
#
#   make lab            venv, host images, release mirror, networks, $(EDGES) edge hosts, inventory
#   make lab-down       remove every container, network and volume the project made (images stay)
#   make test           unit + fidelity + lab tool tests, then integration tests and Molecule scenarios
#   make lint           ansible-lint (once there are roles and playbooks to lint)
#   make clean-images   lab-down, then remove the project's host images too

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
.ONESHELL:

REPO := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
VENV := $(REPO)/.venv
PY := $(VENV)/bin/python
VENV_STAMP := $(VENV)/.edgefleet-requirements.sha256
# lab-down and clean-images must work before (or without) the venv: lablib.py needs only the stdlib.
ANY_PY := $(if $(wildcard $(PY)),$(PY),python3)

# Podman needs runc and lower ulimits on these machines; nothing under /etc is edited.
export CONTAINERS_CONF := $(REPO)/tests/lab/containers.conf
export PATH := $(VENV)/bin:$(PATH)
export ANSIBLE_FORCE_COLOR ?= $(if $(CI),0,1)

EDGES ?= 3
IMAGE ?= debian12
# Hook: the playbook `make lab` applies to the lab hosts. Empty for now, so `make lab` only brings the
# lab up; the issue that makes the lab converge sets it to playbooks/site.yml (or: make lab LAB_PLAYBOOK=...).
LAB_PLAYBOOK ?=
MOLECULE_SCENARIOS ?= $(notdir $(patsubst %/molecule.yml,%,$(wildcard $(REPO)/molecule/*/molecule.yml)))
PYTEST_ARGS ?=
# One id per make invocation: tests label what they create with it, and the EXIT traps below remove
# exactly that, whatever the outcome.
RUN_ID := mk$(shell date +%Y%m%d%H%M%S)-$(shell echo $$PPID)
LOGS := $(REPO)/.lab/logs

.PHONY: help system-deps venv images images-rebuild mirror lab lab-converge lab-down lab-status test test-unit \
        test-integration test-molecule lint clean clean-images

help:
	@sed -n '1,8p' $(REPO)/Makefile | sed 's/^# \{0,1\}//'

# --- set-up -------------------------------------------------------------------------------------

# The stamp holds the hash of requirements-dev.txt: the venv is (re)synced only when that changes.
# Debian packages from tests/lab/system-packages.txt, installed only when some are missing, so that
# `make lab` and `make test` work on a fresh machine (as root; apt-get update runs once, only then).
system-deps:
	@missing="$$(grep -v '^#' $(REPO)/tests/lab/system-packages.txt | while read -r pkg; do
	  [[ -z "$$pkg" ]] || dpkg-query -W -f='$${db:Status-Status}\n' "$$pkg" 2>/dev/null | grep -qx installed || echo "$$pkg"
	done)"
	if [[ -z "$$missing" ]]; then echo "system-deps: installed"; exit 0; fi
	echo "system-deps: installing" $$missing
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends $$missing >/dev/null

venv:
	@want="$$(sha256sum $(REPO)/requirements-dev.txt | cut -d' ' -f1)"
	if [[ -x "$(PY)" && -f "$(VENV_STAMP)" && "$$(cat $(VENV_STAMP))" == "$$want" ]]; then
	  echo "venv: up to date ($(VENV))"; exit 0
	fi
	[[ -x "$(PY)" ]] || python3 -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check --quiet --upgrade pip
	$(PY) -m pip install --disable-pip-version-check --quiet -r $(REPO)/requirements-dev.txt
	echo "$$want" >$(VENV_STAMP)
	echo "venv: installed from requirements-dev.txt"

images: system-deps
	$(REPO)/tests/lab/images.sh

images-rebuild:
	$(REPO)/tests/lab/images.sh --rebuild

mirror: venv
	$(PY) $(REPO)/tests/lab/mirror.py build

# --- the lab ------------------------------------------------------------------------------------

lab: venv images mirror
	$(PY) $(REPO)/tests/lab/lablib.py up --edges $(EDGES) --image $(IMAGE)
	$(MAKE) --no-print-directory lab-converge

# Hook for the collection: applies $(LAB_PLAYBOOK) to the lab when there is one.
lab-converge:
	@if [[ -z "$(LAB_PLAYBOOK)" ]]; then
	  echo "lab: hosts left bare (LAB_PLAYBOOK=<playbook> applies one)"; exit 0
	fi
	ansible-playbook -i $(REPO)/inventories/lab/hosts.yml $(LAB_PLAYBOOK)

lab-status:
	@$(ANY_PY) $(REPO)/tests/lab/lablib.py status

lab-down:
	$(ANY_PY) $(REPO)/tests/lab/lablib.py down

# --- tests --------------------------------------------------------------------------------------

# Unit and fidelity tests need no containers; tests/lab holds the lab tools' own tests, so this run
# always collects something (pytest exit 5 cannot happen while the lab tools are tested).
test-unit: venv
	mkdir -p $(LOGS)
	cd $(REPO)
	$(PY) -m pytest -p no:cacheprovider tests/unit tests/fidelity tests/lab $(PYTEST_ARGS) \
	  2>&1 | tee $(LOGS)/test-unit.log

# Lab hosts (Debian 12 and 13), the mirror, the stand-in as a systemd service, and the Molecule
# scenarios (run by tests/integration/test_molecule.py). Whatever happens, this run's containers
# and networks are removed on exit.
test-integration: venv images mirror
	mkdir -p $(LOGS)
	cd $(REPO)
	cleanup() {
	  $(PY) tests/lab/lablib.py down --run $(RUN_ID) >/dev/null || true
	  for s in $(MOLECULE_SCENARIOS); do $(PY) tests/lab/lablib.py down --run molecule-$$s >/dev/null || true; done
	}
	trap cleanup EXIT
	EDGEFLEET_RUN_ID=$(RUN_ID) $(PY) -m pytest -p no:cacheprovider -m hosts tests/integration $(PYTEST_ARGS) \
	  2>&1 | tee $(LOGS)/test-integration.log

# Molecule on its own (also part of test-integration). Each scenario's destroy removes its share;
# the trap catches what a failed run leaves behind.
test-molecule: venv images mirror
	cd $(REPO)
	trap 'for s in $(MOLECULE_SCENARIOS); do $(PY) tests/lab/lablib.py down --run molecule-$$s >/dev/null || true; done' EXIT
	for scenario in $(MOLECULE_SCENARIOS); do
	  molecule --base-config molecule/config.yml test --scenario-name "$$scenario"
	done

test: test-unit test-integration

lint: venv
	@cd $(REPO)
	if [[ -z "$$(find roles playbooks -name '*.yml' 2>/dev/null | head -n 1)" ]]; then
	  echo "lint: no roles or playbooks yet, nothing for ansible-lint"; exit 0
	fi
	ansible-lint

# --- clean-up -----------------------------------------------------------------------------------

clean: lab-down
	rm -rf $(REPO)/.lab/build $(REPO)/.lab/mirror $(REPO)/.lab/logs

clean-images: lab-down
	@ids="$$(podman images --quiet --filter label=io.edgefleet.project=edgefleet-k3s | sort -u)"
	if [[ -n "$$ids" ]]; then podman rmi --force $$ids; else echo "no project images"; fi
