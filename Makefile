# Developer entry points. The real work is in deploy/bin/* (readable bash);
# settings and ports are in deploy/env.sh and can be overridden from the
# environment, e.g. `PGPORT=6543 make infra-up`.
SHELL := bash
.DEFAULT_GOAL := help

.PHONY: help run test stop setup infra-up infra-down status clean bench dlq replay prometheus

help: ## list the targets
	@echo "Targets:"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | \
		awk -F':.*## ' '{ printf "  make %-11s %s\n", $$1, $$2 }'

run: ## start everything in the foreground, supervised (SCALE=N: N of each; Ctrl-C stops it all)
	deploy/bin/run

test: ## start everything like `make run`, run pytest against it, stop it
	deploy/bin/test

stop: ## stop a running `make run` and the infrastructure
	deploy/bin/run stop

setup: ## install Debian packages and the .venv (idempotent)
	deploy/bin/setup

infra-up: ## start PostgreSQL, RabbitMQ and the mail sink (project-local)
	deploy/bin/setup
	deploy/bin/infra up

infra-down: ## stop PostgreSQL, RabbitMQ and the mail sink
	deploy/bin/infra down

status: ## show what is running: the infrastructure and each supervised process
	deploy/bin/run status

clean: stop ## stop everything and delete .state (databases, queues, mail, logs)
	. deploy/env.sh && rm -rf "$$ASAN_STATE_DIR"

bench: ## start everything like `make test`, run the benchmarks of docs/BENCHMARKS.md, stop
	deploy/bin/test --bench

dlq: ## list dead-lettered messages
	. deploy/env.sh && .venv/bin/python -m shared.ops.deadletters list

replay: ## replay dead letters of one queue: make replay QUEUE=name
	@test -n "$(QUEUE)" || { echo "usage: make replay QUEUE=<queue name>" >&2; exit 2; }
	. deploy/env.sh && .venv/bin/python -m shared.ops.deadletters replay $(QUEUE)

prometheus: ## Prometheus + Alertmanager on the running stack; alerts emailed to OPERATOR_EMAIL
	deploy/bin/prometheus

.PHONY: cluster
cluster: ## 3 RabbitMQ nodes; one SIGKILLed under a booking load: what was lost (nothing)
	deploy/bin/setup
	deploy/bin/cluster demo
