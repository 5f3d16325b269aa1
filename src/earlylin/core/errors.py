"""Errors whose message already says what went wrong, with which config key, and what to do.

A stage that runs the user's code (a module's forward pass, the NTK, a training step) turns
any other error into one that names the model, its config key and the stage
(``networks.registry.ModelSpec.stage``); these pass through unchanged."""

from __future__ import annotations


class ExplainedError(Exception):
    """An error whose message names the key, the value and the fix."""
