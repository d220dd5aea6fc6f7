# SPDX-License-Identifier: Apache-2.0
# clemap-edge: `make demo` runs the firmware against the simulated meter, `make test` runs every test.

SWIFT        ?= swift
CONFIG       ?= calibration/config.ini
SCENARIO     ?= scenarios/home-day.json
DEMO_SPEED   ?= 180
DEMO_SECONDS ?= 5400
DEMO_DB      ?= out/demo.db
APT_PACKAGES := linux-libc-dev pkg-config libsqlite3-dev sqlite3 libgpiod-dev libhdf5-dev libarchive-dev zlib1g-dev libbz2-dev liblzma-dev libzstd-dev nettle-dev libcurl4-openssl-dev libmodbus-dev libmosquitto-dev
# The HTTP API's process tests: the dashboard in headless Chromium, promtool for /metrics, wrk for the load test;
# MQTT's: a real mosquitto broker (and mosquitto_passwd), openssl for its test certificates.
TEST_APT_PACKAGES := chromium chromium-driver prometheus wrk mosquitto openssl

.PHONY: all deps build release demo read-demo test test-layering test-swift test-process test-gpiod2 test-cloud-functions test-cloud bench bench-forecast bench-forecast-day bench-backtest bench-export bench-http bench-modbus bench-mqtt check clean

all: build

deps:
	@scripts/ensure-deps.sh $(APT_PACKAGES)

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

## The service against the simulated meter: 90 household minutes ($(SCENARIO)) at $(DEMO_SPEED)x speed, one row a minute;
## then the rows, the forecaster, and the exporter's lake in moto's S3 server on loopback (scripts/demo.py).
demo: build
	@python3 scripts/demo.py --binary "$$($(SWIFT) build --show-bin-path)/clemap-edge" --config $(CONFIG) --scenario $(SCENARIO) \
		--speed $(DEMO_SPEED) --seconds $(DEMO_SECONDS) --db $(DEMO_DB)

## Live readings from the simulated ADE9000, one a second.
read-demo: build
	$(SWIFT) run --skip-build clemap-edge read --simulate --config $(CONFIG) --scenario scenarios/home-evening.json --count 10 --interval 1

## Every test: unit, simulator end to end, CLI, the service as a process (kill -9, storage faults),
## and the installation (systemd unit, udev rules, make install; the unit also under a real systemd).
test: test-layering test-swift test-process test-gpiod2 test-cloud-functions
	CLEMAP_LIVE_SYSTEMD=1 $(MAKE) --no-print-directory test-install

test-swift: deps
	@scripts/ensure-deps.sh mosquitto
	@python3 -c 'import moto.server, boto3' >/dev/null 2>&1 || python3 -m pip install -q 'moto[server]' boto3
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

test-process: deps
	@scripts/ensure-deps.sh $(TEST_APT_PACKAGES)
	$(SWIFT) build
	@python3 -m pytest --version >/dev/null 2>&1 || python3 -m pip install -q pytest
	@python3 -c 'import moto.server, boto3, pyarrow' >/dev/null 2>&1 || python3 -m pip install -q 'moto[server]' boto3 pyarrow
	@python3 -c 'import selenium, schemathesis, pymodbus' >/dev/null 2>&1 || python3 -m pip install -q selenium schemathesis pymodbus
	@python3 -c 'import paho.mqtt, jinja2' >/dev/null 2>&1 || python3 -m pip install -q paho-mqtt jinja2
	python3 -m pytest -q integration/process

## The layering: no target imports or depends on a higher one (scripts/layers.txt), with the checker's own tests.
test-layering:
	@python3 -m pytest --version >/dev/null 2>&1 || python3 -m pip install -q pytest
	python3 -m pytest -q -p no:cacheprovider integration/layering
	PATH="/opt/swift/usr/bin:$$PATH" python3 scripts/check-layering.py

## The cloud retraining loop without TensorFlow (cloud/README.md): the functions against moto in process, the template
## (cfn-lint clean, least privilege, in step with the exporter's layout), the training job's data part; pinned, in .venv-cloud.
test-cloud-functions:
	@scripts/ensure-venv.sh .venv-cloud cloud/requirements-dev.txt
	.venv-cloud/bin/python -m pytest -q -p no:cacheprovider cloud/tests --ignore=cloud/tests/tensorflow

## The cloud part whole: the above, `sam validate --lint` (.venv-sam), the training job under TensorFlow
## (.venv-cloud-train, ~1.5 GB the first time), and the loop end to end: the device exports to moto's server, a job
## trains on it, the device serves the model (~3 min).
CLOUD_TRAIN_VENV ?= .venv-cloud-train
test-cloud: build test-cloud-functions
	@scripts/ensure-venv.sh .venv-sam cloud/requirements-sam.txt
	SAM_CLI=$(CURDIR)/.venv-sam/bin/sam .venv-cloud/bin/python -m pytest -q -p no:cacheprovider cloud/tests/test_template.py -k sam_validate
	@scripts/ensure-venv.sh $(CLOUD_TRAIN_VENV) cloud/training/requirements.txt cloud/training/requirements-local.txt
	$(CLOUD_TRAIN_VENV)/bin/python -m pytest -q -p no:cacheprovider cloud/tests/tensorflow
	CLOUD_TRAIN_PYTHON=$(CURDIR)/$(CLOUD_TRAIN_VENV)/bin/python .venv-cloud/bin/python -m pytest -q -s -p no:cacheprovider integration/cloud

## libgpiod 2.x (Debian 13): the CGPIOD shim compiled, linked and run against it, beside the system's 1.6.
test-gpiod2: deps
	scripts/libgpiod2/build-v2.sh

## Benchmark figures for one simulated day (not a test).
bench: deps
	bash benchmarks/run.sh

## Keras forecast: Python TensorFlow (the original's way) against clemap-edge's KerasModel on one .h5 (not a test).
bench-forecast: deps
	bash benchmarks/forecast/keras-vs-tensorflow.sh

## The service over one simulated day with the forecaster on and off (seeded with 30 days): sampling grid, peak RSS.
bench-forecast-day: deps
	bash benchmarks/forecast/service-day.sh

## The forecaster's full two-year backtest on one core: time against a baseline, and the skill table.
bench-backtest: deps
	bash benchmarks/forecast/backtest.sh

## The exporter draining a week's backlog (168 hourly objects) into moto's S3 server: throughput against boto3, peak RSS against [CLOUD] off (not a test).
bench-export: deps
	bash benchmarks/export/drain.sh

## The HTTP API under wrk while the service samples in real time: req/s, p50/p90/p99 of /api/v1/live and /metrics, peak RSS against [HTTP] off (not a test; ~1 min after the build).
bench-http: deps
	bash benchmarks/http/load.sh

## Modbus TCP with 50 clients (a C libmodbus load generator) while the service samples in real time: req/s, p50/p90/p99, peak RSS against [MODBUS] off (not a test; ~30 s after the build).
bench-modbus: deps
	bash benchmarks/modbus/load.sh

## MQTT: messages/s the service sustains into a mosquitto broker on loopback (live state every simulated second at a
## high --sim-speed), the sampling grid meanwhile, and peak RSS against [MQTT] off (not a test; ~1 min after the build).
bench-mqtt: deps
	bash benchmarks/mqtt/throughput.sh

check: test

clean:
	rm -rf .build out

include mk/install.mk
