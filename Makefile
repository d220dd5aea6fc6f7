# SPDX-License-Identifier: Apache-2.0
# clemap-edge: `make demo` runs the firmware against the simulated meter, `make test` runs every test.

SWIFT        ?= swift
CONFIG       ?= calibration/config.ini
SCENARIO     ?= scenarios/home-evening.json
DEMO_COUNT   ?= 10
APT_PACKAGES := linux-libc-dev pkg-config

.PHONY: all deps build release demo test check clean

all: build

deps:
	@scripts/ensure-deps.sh $(APT_PACKAGES)

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

## Live readings from the simulated ADE9000 (no hardware needed).
demo: build
	@echo "clemap-edge reading a simulated ADE9000 ($(SCENARIO)), $(DEMO_COUNT) readings; Ctrl-C stops." >&2
	$(SWIFT) run --skip-build clemap-edge read --simulate --config $(CONFIG) --scenario $(SCENARIO) --count $(DEMO_COUNT) --interval 1

## Every test: unit, simulator end to end, CLI.
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

check: test

clean:
	rm -rf .build
