# SPDX-License-Identifier: Apache-2.0
"""Fixtures of integration/install; the helpers live in install_helpers.py, whose unique name keeps
`from install_helpers import …` unambiguous when pytest also collects other test folders."""

from install_helpers import binary, staged  # noqa: F401  (fixtures)
