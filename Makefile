# snaplab: the README's two commands are `make run` and `make test`.
# Both install what is missing on a fresh machine, idempotently.

SHELL := /bin/bash
CARGO ?= cargo
# No debug info in dev builds: half the size, faster links.
export CARGO_PROFILE_DEV_DEBUG ?= 0

.PHONY: help run run-headless app app-deps ui bundle test test-rust test-ui test-gui test-bundle screenshots build lint bench bench-app bench-class bench-class-record bench-journal emulator test-localstack clean-tools

help:
	@echo "make run              open the desktop app (SecureCart Snapshot Lab) on the built-in emulator"
	@echo "make run-headless     the same lab in the terminal, no window (snaplab run)"
	@echo "make app              build the desktop app: target/debug/snaplab-app"
	@echo "make bundle           an installable .deb of the app (release build): target/release/bundle/deb/"
	@echo "make test             install what is missing, then run every test (lint, unit, integration, real clients)"
	@echo "make screenshots      refresh the README's screenshots (docs/screenshots/) from the GUI tests"
	@echo "make emulator         start the standalone emulator on 127.0.0.1:4566"
	@echo "make test-localstack  the lab against LocalStack, started on this host (opt-in: heavy)"
	@echo "make bench-app        the desktop app's benchmarks (cold start, memory, frame time) under Xvfb"
	@echo "make bench-class      a class on one emulator: 1 to 30 learners' runs at once (latency, CPU, memory)"
	@echo "make bench-class-record  30 learners' runs recording into their own files, then into a PostgreSQL class database too"
	@echo "make bench-journal    the emulator's journal, this build beside an older revision's (REV=7008c93)"
	@echo "make bench  benchmarks: the emulator beside moto, then volume data (figures to stdout; see docs/benchmarks.md)"

# The CLI alone (the terminal lab, the emulator): no UI, no WebKit needed.
build:
	$(CARGO) build --bin snaplab

# System packages (WebKitGTK, Xvfb, WebKitWebDriver) and the UI's npm packages.
app-deps:
	@scripts/app-deps.sh

UI_SOURCES := $(shell find ui/src -type f 2>/dev/null) ui/index.html ui/vite.config.ts ui/package-lock.json
ui/dist/index.html: $(UI_SOURCES)
	cd ui && npm run build --silent
ui: app-deps ui/dist/index.html

# The app and the CLI (run falls back to it without a display) in one cargo
# invocation over the whole workspace: with the workspace's resolver 1 it
# compiles every shared crate with the same features as the test build, so
# `make test` and `make run` reuse each other's work. The UI is embedded,
# so it is built first.
app: ui
	$(CARGO) build --workspace

# The .deb (Tauri's bundler, pinned in ui/package.json), release build.
bundle: ui
	scripts/bundle.sh

# Opens the window; without a display, says how to get one and runs the lab in the terminal instead.
run: app
	@if [ -n "$${DISPLAY:-}$${WAYLAND_DISPLAY:-}" ]; then \
	  ./target/debug/snaplab-app; \
	else \
	  echo "No display here (DISPLAY is unset): running the lab in the terminal instead."; \
	  echo "For the window on a virtual display: xvfb-run -a ./target/debug/snaplab-app (see README)."; \
	  ./target/debug/snaplab run; \
	fi

run-headless: build
	./target/debug/snaplab run

emulator: build
	./target/debug/snaplab emulator

lint: ui
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# Every test: the Rust suites (aws-sdk-ec2, the aws CLI and boto3 as judges),
# the UI's unit tests, and the real app driven through WebKitWebDriver under Xvfb.
# Each suite runs even when an earlier one failed; the target fails if any did.
test: lint
	@status=0; \
	$(MAKE) --no-print-directory test-rust || status=1; \
	$(MAKE) --no-print-directory test-ui || status=1; \
	$(MAKE) --no-print-directory test-gui || status=1; \
	$(MAKE) --no-print-directory test-bundle || status=1; \
	exit $$status

# Beside a throwaway PostgreSQL server (Debian's package, a cluster in a temp
# directory, stopped afterwards): the record's tests run on both engines.
test-rust: ui
	@eval "$$(scripts/tools.sh)" && \
	  if $(CARGO) nextest --version >/dev/null 2>&1; then \
	    scripts/with-postgres.sh $(CARGO) nextest run --workspace --no-fail-fast; \
	  else \
	    scripts/with-postgres.sh $(CARGO) test --workspace --no-fail-fast; \
	  fi
	$(CARGO) test --workspace --doc

test-ui: app-deps
	cd ui && npx svelte-check --tsconfig ./tsconfig.json --fail-on-warnings && npx vitest run

# Built with --all-targets: the test build above has compiled what it needs.
test-gui: ui
	$(CARGO) build --workspace --all-targets
	@eval "$$(scripts/tools.sh)" && export PATH="$$(dirname "$$SNAPLAB_AWS_CLI"):$$PATH" && \
	  scripts/with-postgres.sh xvfb-run -a -s "-screen 0 1280x860x24" node tests/gui/e2e.mjs target/debug/snaplab-app

# The .deb of the debug build test-gui used: extracted, its dependencies
# checked, the installed app started headless.
test-bundle: ui
	scripts/test-bundle.sh

# The README's screenshots, refreshed on purpose: the GUI tests, which also
# copy theirs into docs/screenshots/ (a plain test-gui leaves them in target/gui-e2e/).
screenshots:
	SNAPLAB_REFRESH_SCREENSHOTS=1 $(MAKE) --no-print-directory test-gui

test-localstack: build
	scripts/test-localstack.sh

bench:
	scripts/bench-emulator.sh
	scripts/bench-data.sh
	scripts/bench-lab.sh
	scripts/bench-app.sh

bench-app:
	scripts/bench-app.sh

bench-class:
	scripts/bench-class.sh

bench-class-record:
	scripts/bench-class-record.sh

bench-journal:
	scripts/bench-journal.sh $(REV)

clean-tools:
	rm -rf .venv-tools
