# snaplab: the README's two commands are `make run` and `make test`.
# Both install what is missing on a fresh machine, idempotently.

SHELL := /bin/bash
CARGO ?= cargo
# No debug info in dev builds: half the size, faster links.
export CARGO_PROFILE_DEV_DEBUG ?= 0

.PHONY: help run test build lint bench emulator test-localstack clean-tools

help:
	@echo "make run              run the SecureCart lab, guided, on the built-in emulator (headless)"
	@echo "make test             install what is missing, then run every test (lint, unit, integration, real clients)"
	@echo "make emulator         start the standalone emulator on 127.0.0.1:4566"
	@echo "make test-localstack  the lab against LocalStack, started on this host (opt-in: heavy)"
	@echo "make bench  benchmarks: the emulator beside moto, then volume data (figures to stdout; see docs/benchmarks.md)"

build:
	$(CARGO) build --bin snaplab

run: build
	./target/debug/snaplab run

emulator: build
	./target/debug/snaplab emulator

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# Every test: the Rust suites (aws-sdk-ec2, the aws CLI and boto3 as judges).
test: lint
	@eval "$$(scripts/tools.sh)" && \
	  if $(CARGO) nextest --version >/dev/null 2>&1; then \
	    $(CARGO) nextest run --workspace --no-fail-fast; \
	  else \
	    $(CARGO) test --workspace --no-fail-fast; \
	  fi
	$(CARGO) test --workspace --doc

test-localstack: build
	scripts/test-localstack.sh

bench:
	scripts/bench-emulator.sh
	scripts/bench-data.sh
	scripts/bench-lab.sh

clean-tools:
	rm -rf .venv-tools
