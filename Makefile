# PlusPTT deploy collection: set-up and test entry points (see README.md).
SHELL := /bin/bash
INVENTORY ?= inventories/local/hosts.yml
ARGS ?=
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg

.PHONY: deploy test venv unit lint sanity

## deploy: install the controller stack in .venv and deploy PlusPTT onto INVENTORY
deploy: venv
	@if [ ! -f playbooks/site.yml ]; then \
	  echo "The stack roles are not part of this release yet: nothing to deploy."; \
	  echo "The modules are ready to use: ansible-doc plusptt.deploy.jwt_keys"; exit 1; fi
	.venv/bin/ansible-playbook -i $(INVENTORY) playbooks/site.yml $(ARGS)

## test: run every test (lint, unit, sanity, build, module and end-to-end tests)
test:
	bash scripts/test.sh

venv:
	bash scripts/bootstrap.sh

unit:
	bash scripts/test.sh bootstrap unit

lint:
	bash scripts/test.sh bootstrap python-lint yaml-lint ansible-lint

sanity:
	bash scripts/test.sh bootstrap sanity
