"""One temporary Prefect server for the flow tests that run a flow in this process (issue #14): started by the
first test that asks for `prefect_harness`, stopped when the last test of tests/flows is done.

Package scope, not session: the harness sets PREFECT_API_URL in Prefect's settings context for as long as it is
open, and tests outside tests/flows run `genjin` in this process expecting no API URL (tests/genjin/test_settings.py:
a Dask address without a reachable server stops the run). The tests that run `genjin` in a subprocess (with their
own PREFECT_HOME: test_idempotency.py, the `genjin demo` and `genjin run` tests) start their own server, as ops'
runs do; tests/genjin/test_serve.py needs a real `prefect server start`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="package")
def prefect_harness() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
