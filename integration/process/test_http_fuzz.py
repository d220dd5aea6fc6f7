# SPDX-License-Identifier: Apache-2.0
"""schemathesis fuzzes the live API from the openapi.yaml the service itself serves (issue 11: "the API fuzzed from
its own spec").

Bounded: at most MAX_EXAMPLES cases per operation (phases examples, coverage and fuzzing; no stateful links in
the spec) and a subprocess timeout. A token is configured and sent, so POST /api/v1/outputs/{output} is exercised
past the auth check. Checks: no 5xx, status codes, content types, response headers and bodies as documented.
Set CLEMAP_FUZZ_SEED to replay a run; the seed is printed either way.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import REPO_ROOT
from httpservice import TOKEN, start_http

MAX_EXAMPLES = 50
TIMEOUT_S = 300
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_headers_conformance", "response_schema_conformance")
SPEC = yaml.safe_load((REPO_ROOT / "Sources" / "MeterHTTP" / "openapi.yaml").read_text())
# schemathesis leaves out the operation that serves the schema it loaded from (test_http_api checks that route).
FUZZED = {f"{m.upper()} {p}" for p, item in SPEC["paths"].items() for m in item} - {"GET /api/v1/openapi.yaml"}


def schemathesis_cli() -> str:
    path = shutil.which("schemathesis") or shutil.which("st")
    if path is None:
        pytest.fail("schemathesis is not installed: python3 -m pip install schemathesis (make test-process does)",
                    pytrace=False)
    return path


def test_schemathesis_finds_no_failure(start_service, workdir: Path, config_ini: Path):
    cli = schemathesis_cli()
    api = start_http(start_service, workdir, config_ini, token=TOKEN)
    api.service.wait_for_rows(5, timeout=60)  # rows to list, energy to sum, a reading for /live
    seed = int(os.environ.get("CLEMAP_FUZZ_SEED", random.randrange(1 << 31)))
    reports = workdir / "schemathesis"
    argv = [cli, "run", f"{api.base_url}/api/v1/openapi.yaml", "--url", api.base_url,
            "--checks", ",".join(CHECKS), "--max-examples", str(MAX_EXAMPLES), "--seed", str(seed),
            "--phases", "examples,coverage,fuzzing", "--workers", "1", "--request-timeout", "10",
            "--header", f"Authorization: Bearer {TOKEN}", "--suppress-health-check", "too_slow",
            "--report", "json", "--report-dir", str(reports), "--output-truncate", "false"]
    started = time.monotonic()
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT_S, cwd=workdir,
                              env={**os.environ, "NO_COLOR": "1"})
    except subprocess.TimeoutExpired:
        pytest.fail(f"schemathesis did not finish within {TIMEOUT_S} s\n{api.service.describe()}", pytrace=False)
    elapsed = time.monotonic() - started
    (workdir / "schemathesis.out").write_text(done.stdout + done.stderr)

    found = sorted(reports.glob("*.json"))
    assert found, f"schemathesis wrote no JSON report (exit {done.returncode}):\n{done.stdout[-4000:]}{done.stderr[-2000:]}"
    report: dict[str, Any] = json.loads(found[-1].read_text())
    operations, cases = report["operations"], report["test_cases"]
    tested = set(report.get("valid_rates", {}))
    print(f"\nschemathesis {report['schemathesis_version']}, seed {seed}, {elapsed:.1f} s: "
          f"{operations['tested']}/{operations['total']} operations, {cases['generated']} test cases, "
          f"{cases['unique_failures']} unique failures, {len(report['errors'])} errors")

    # Not vacuous: every documented operation (but the schema's own) ran, with cases.
    assert operations["tested"] >= len(FUZZED) and cases["generated"] >= 3 * len(FUZZED), (
        f"schemathesis tested too little: {operations}, {cases}\n{done.stdout[-3000:]}")
    assert FUZZED <= tested, f"operations not tested: {sorted(FUZZED - tested)}"

    assert report["errors"] == [], f"schemathesis errors: {json.dumps(report['errors'], indent=1)[:3000]}"
    assert not report["failures"] and done.returncode == 0, (
        f"schemathesis found failures (seed {seed}; replay with CLEMAP_FUZZ_SEED={seed}):\n"
        + "\n".join(f"  {f['code']} {f['title']} x{f['count']}: {', '.join(f['operations'])}" for f in report["failures"])
        + f"\n\n{done.stdout[-12000:]}")
    assert api.service.alive(), api.service.describe()
