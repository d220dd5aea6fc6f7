# SPDX-License-Identifier: Apache-2.0
"""The retraining loop's two Lambda functions (cloud/README.md)."""
