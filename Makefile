# One command surface: run, test, check, bench, stop. See README.md.
SHELL := /bin/bash
PY := .venv/bin/python
export EVENTLET_NO_GREENDNS := yes

.PHONY: venv infra system-deps web web-test api-client run stop test check bench lock ops-tools clean

venv:
	@scripts/bootstrap-python.sh

infra:
	@scripts/infra.sh up

ops-tools:
	@scripts/install-ops-tools.sh

system-deps:
	@scripts/install-system-deps.sh

## make web: build the web app (web/dist) when web/ changed; npm ci only when its lock changed
web:
	@scripts/build-web.sh

## make web-test: the web app's unit tests (Vitest) and the check that the API client is fresh
web-test: venv web
	@cd web && npx vitest run --reporter=dot
	@cd web && npm run --silent check:api

## make api-client: regenerate web/src/api/{openapi.json,schema.d.ts} from the gateway's routes
api-client: venv
	@cd web && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm run --silent gen:api

## make run: infrastructure, the five services, the gateway and a demo tenant
run: venv infra system-deps web
	@$(PY) -m devstack.run start

## make stop: stop the stack and the infrastructure this project started
stop:
	@[ -x $(PY) ] && $(PY) -m devstack.run stop || true
	@scripts/infra.sh down

## make check: ruff everywhere, mypy on the pure cores
check: venv
	@.venv/bin/ruff check .
	@.venv/bin/mypy

## make test: everything the tests need, then the whole suite
test: venv infra system-deps ops-tools check web-test
	@$(PY) -m pytest gateway/tests
	@$(PY) -m pytest

## make bench: benchmarks (not part of make test), figures as ratios to a bare baseline
bench: venv infra system-deps
	@$(PY) -m bench

## make lock: re-resolve requirements.lock from requirements.in
lock:
	uv pip compile -q --python-version 3.11 --universal requirements.in -o requirements.lock

## make clean: stop what runs from .local (PostgreSQL's cluster lives there), then remove it
clean: stop
	rm -rf .venv .local .tools web/node_modules web/dist
