# Balancecoach — every target sets up what it needs (venv, packages, trained models) on a fresh clone.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV      := .venv
PY        := $(VENV)/bin/python
RASA      := $(VENV)/bin/rasa
export RASA_PORT   ?= 5005
export ACTION_PORT ?= 5055
export TF_CPP_MIN_LOG_LEVEL ?= 3
export SQLALCHEMY_SILENCE_UBER_WARNING ?= 1
export RASA_TELEMETRY_ENABLED ?= false
export PYTHONPATH := $(CURDIR)$(if $(PYTHONPATH),:$(PYTHONPATH))

# Python 3.10 (Rasa 3.6 supports no newer): python3.10 on PATH first, then pyenv.
PYTHON310 := $(shell for c in "$$(command -v python3.10)" "$$(pyenv prefix 3.10.13 2>/dev/null)/bin/python3.10" "$$(pyenv prefix 3.10 2>/dev/null)/bin/python3.10"; do \
	[ -x "$$c" ] && "$$c" -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1 && { echo "$$c"; break; }; done)

NODE_DEPS     := node_modules/.installed
CHROMIUM      := /usr/bin/chromium
NGINX         := /usr/sbin/nginx
RASA_MODEL    := models/balancecoach.tar.gz
ANALYSE_MODEL := models/analyse.pkl
NAMES         := models/navne.json
NLU_REPORT    := models/nlu_rapport.json
RASA_DATA     := data/nlu data/rules data/stories
# Rasa's domain: domain.yml plus the responses made from the balance model (bot/domain_parts.py writes both here).
DOMAIN_DIR    := build/domain
DOMAIN_INPUTS := domain.yml bot/knowledge.yml bot/knowledge.py bot/domain_parts.py
MAKE_DOMAIN   := $(PY) -m bot domain --knowledge bot/knowledge.yml --out $(DOMAIN_DIR)
NLU_DATA      := $(shell find $(RASA_DATA) -name '*.yml' 2>/dev/null)
ANALYSE_DATA  := $(shell find data/analyse -name '*.yml' 2>/dev/null) bot/knowledge.yml
SHARED        ?= ../shared

.PHONY: help install train run run-prod shell test chaos validate eval bench sample teams-package export-training candidate clean

help: ## Show the targets and what they do
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.lock
	@if [ -z "$(PYTHON310)" ]; then echo "Python 3.10 is needed (Rasa 3.6 supports no newer). Install it, e.g. 'pyenv install 3.10.13', or put python3.10 on PATH." >&2; exit 1; fi
	$(PYTHON310) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade "pip<24.1"
	$(VENV)/bin/pip install --quiet -r requirements.lock
	touch $@

$(NODE_DEPS): package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts
	touch $@

# Debian's Chromium for the browser tests (Playwright drives it; no browser is ever downloaded).
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	else echo "Debians chromium mangler til browsertestene: sudo apt-get install -y chromium" >&2; exit 1; fi

# Debian's nginx: the reverse proxy of the production shape (make run-prod, make chaos, make bench).
$(NGINX):
	@if [ "$$(id -u)" = 0 ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y nginx-light; \
	else echo "Debians nginx mangler til produktionsformen: sudo apt-get install -y nginx-light" >&2; exit 1; fi

install: $(VENV)/.installed ## Create .venv with Python 3.10 and the pinned requirements

$(RASA_MODEL): $(VENV)/.installed config.yml $(DOMAIN_INPUTS) $(NLU_DATA)
	$(MAKE_DOMAIN)
	$(RASA) train --domain $(DOMAIN_DIR) --data $(RASA_DATA) --fixed-model-name balancecoach --out models

$(ANALYSE_MODEL): $(VENV)/.installed $(ANALYSE_DATA) bot/classifier.py bot/lexicon.py bot/text.py bot/meaning.py bot/knowledge.py
	$(PY) -m bot train --out $@

# The Rasa model carries the analysis classifier and the balance model (rasa_addons/balance_analysis.py).
$(RASA_MODEL): $(ANALYSE_MODEL) bot/knowledge.yml

# The names the redaction recognises, from PyPI's names-dataset (read here once; the coach never loads it).
$(NAMES): $(VENV)/.installed ops/build_names.py
	$(PY) ops/build_names.py --out $@

train: $(RASA_MODEL) $(ANALYSE_MODEL) $(NAMES) ## Train the Rasa model and the analysis classifier, build the name list (only when inputs changed)

run: train ## Run the coach: action server (5055) + Rasa server (5005, REST + socket.io) + review app (5010), SQLite
	$(PY) -m bot serve

run-prod: train $(NGINX) ## Production shape: nginx (8443 leaders/Teams, 8444 coaches) + 2 Rasa servers + actions + review app on PostgreSQL and Redis; secrets required (docs/drift.md)
	$(PY) -m ops.production run

shell: train ## Chat with the coach in the terminal
	$(PY) -m bot serve --shell

validate: $(VENV)/.installed ## Check the Rasa training data and domain
	$(MAKE_DOMAIN)
	$(RASA) data validate --domain $(DOMAIN_DIR) --data $(RASA_DATA)

# Intent figures on a held-out 20 % of data/nlu (one more NLU training, only when the NLU data or pipeline changed):
# the quality gate in `make test` (tests/test_quality_gate.py) holds them to the floors in tests/gulve.yml.
# The held-out split and its model stay in models/tvilling/: HR's candidates are compared with the built model on them.
$(NLU_REPORT): $(VENV)/.installed config.yml $(shell find data/nlu -name '*.yml' 2>/dev/null) | $(ANALYSE_MODEL)
	$(PY) -m bot eval-nlu --out $@

test: train $(NLU_REPORT) $(NODE_DEPS) $(CHROMIUM) ## Run the whole test suite (pytest, the data quality gate, Rasa validation and test stories, browser, Teams)
	$(PY) -m pytest -q tests --ignore=tests/chaos

chaos: train $(NGINX) ## Faults of the production shape: a Rasa server killed, restarts, action server, PostgreSQL and Redis down, a deploy under load
	$(PY) -m pytest -q tests/chaos

eval: train ## Score the analysis, the running coach on single messages and whole conversations; NLU report
	$(PY) $(SHARED)/eval/score_dilemmas.py $(SHARED)/eval/dilemmas_dev.yml -- $(PY) -m bot analyse
	$(PY) -m bot eval-conversations $(SHARED)/eval/behaviour_dev.yml $(SHARED)/eval/dialogues_dev.yml
	$(PY) -m bot eval-nlu

bench: train $(NGINX) ## Time training, analysis throughput, memory, turn latency vs rasa init; review pages with 10,000 conversations; 200 leaders on the production shape
	$(PY) -m bot bench
	$(PY) -m ops.load

teams-package: $(NODE_DEPS) ## Build build/balancecoach-teams.zip, the Teams app (set BALANCECOACH_TEAMS_APP_ID)
	$(PY) ops/teams_package.py

sample: train ## Write the README's sample conversation from the running coach
	$(PY) -m bot sample

export-training: $(VENV)/.installed ## Write HR's labels (review app) into data/ as Rasa NLU and analysis training data
	$(PY) -m review export-training --data data

candidate: train $(NLU_REPORT) ## Train a candidate on data/ + HR's labels and compare it with the running model
	$(PY) -m review candidate --projekt .

clean: ## Remove the virtualenv, trained models and local state
	rm -rf $(VENV) models results var $(DOMAIN_DIR)
