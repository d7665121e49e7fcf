# PlusPTT deploy collection: set-up and test entry points (see README.md).
SHELL := /bin/bash
INVENTORY ?= inventories/local/hosts.yml
ARGS ?=
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg

.PHONY: deploy test test-quick venv unit lint sanity

## deploy: install the controller stack in .venv and deploy PlusPTT (this machine, or INVENTORY=...)
deploy:
	bash scripts/deploy.sh

## test: run every test (lint, unit, sanity, build, module and end-to-end tests)
test:
	bash scripts/test.sh

## test-quick: the inner loop, no Docker engine: lint, unit (the bad-input table among them), sanity, build
test-quick:
	bash scripts/test.sh tools python-lint yaml-lint unit ansible-lint sanity build

## Day-2 playbooks on the inventory the deploy used (the same INVENTORY; ARGS="-e name=value" for their settings):
##   make doctor | health | backup | restore | upgrade | rotate-keys | renew-certificates | teardown
DAY2_PLAYBOOKS := doctor health backup restore upgrade rotate-keys renew-certificates teardown
.PHONY: $(DAY2_PLAYBOOKS)
$(DAY2_PLAYBOOKS):
	.venv/bin/ansible-playbook -i $(INVENTORY) playbooks/$@.yml $(ARGS)

venv:
	bash scripts/bootstrap.sh

.PHONY: role-docs
## role-docs: write the variables part of every role's README from its meta/argument_specs.yml (aar-doc)
role-docs:
	bash scripts/role-readmes.sh

unit:
	bash scripts/test.sh bootstrap unit

lint:
	bash scripts/test.sh bootstrap python-lint yaml-lint ansible-lint

sanity:
	bash scripts/test.sh bootstrap sanity

## End-to-end test stack on this machine's Docker engine (tests/e2e/inventory)
E2E_INVENTORY := tests/e2e/inventory/hosts.yml
PLAYBOOK ?= playbooks/site.yml

.PHONY: e2e-images e2e-up e2e-play e2e-down
e2e-images:
	bash scripts/test.sh bootstrap
	bash tests/images/build.sh

## e2e-up: build what is needed and converge the test stack, leaving it running
e2e-up: e2e-images
	.venv/bin/ansible-playbook -i $(E2E_INVENTORY) playbooks/site.yml $(ARGS)

## e2e-play: run PLAYBOOK against the running test stack, e.g. make e2e-play PLAYBOOK=playbooks/health.yml
e2e-play:
	.venv/bin/ansible-playbook -i $(E2E_INVENTORY) $(PLAYBOOK) $(ARGS)

## e2e-down: remove the test stack and its data
e2e-down:
	.venv/bin/ansible-playbook -i $(E2E_INVENTORY) playbooks/teardown.yml -e plusptt_teardown_purge=true $(ARGS)

## Lab of SSH test hosts, each with its own Docker engine (scripts/lab.sh, tests/lab/README.md)
LAB_INVENTORY := tests/lab/inventory/hosts.yml

.PHONY: lab-up lab-hosts lab-play lab-down
## lab-up: start the lab hosts, load the test images into them and converge playbooks/site.yml over SSH
lab-up:
	bash scripts/test.sh bootstrap
	bash scripts/lab.sh up
	.venv/bin/ansible-playbook -i $(LAB_INVENTORY) playbooks/site.yml $(ARGS)

## lab-hosts: only start the lab hosts and load their images
lab-hosts:
	bash scripts/lab.sh up

## lab-play: run PLAYBOOK against the lab, e.g. make lab-play PLAYBOOK=playbooks/health.yml
lab-play:
	.venv/bin/ansible-playbook -i $(LAB_INVENTORY) $(PLAYBOOK) $(ARGS)

## lab-down: remove the lab hosts, their engines' data and the lab network
lab-down:
	bash scripts/lab.sh down

## bench: time deploy runs on the converged test stack (make e2e-up first); prints a table, writes bench/results/
.PHONY: bench
bench:
	.venv/bin/python scripts/bench.py $(ARGS)
