"""Every model type of the installed transformers: exact, or refused before the model is touched (issue 11).

The full sweep over all in-scope types is its own tier (``-m architectures``, about 2 minutes on 2 cores; ``.ci/run``
runs it); the registered architectures, the record's target and the generated table run in the default tier.
"""

from __future__ import annotations

import json

import pytest
import transformers

import painters
from tests import architecture_coverage as coverage

RECORD = json.loads(coverage.RECORD.read_text())
SAME_VERSION = RECORD["transformers"] == transformers.__version__


@pytest.mark.architectures
@pytest.mark.parametrize("model_type", coverage.in_scope())
def test_model_type_is_exact_or_refused(model_type):
    outcome = coverage.check(model_type)  # a wrong number or a crash after acceptance raises here
    if outcome.status == "not-buildable":
        pytest.skip(f"not buildable tiny: {outcome.reason}")
    recorded = RECORD["types"].get(model_type)
    if SAME_VERSION and recorded is not None:  # the published table stays true
        assert outcome.status == recorded["status"], (
            f"{model_type}: {outcome.status} ({outcome.reason}), recorded {recorded['status']}: "
            f"rerun python -m tests.architecture_coverage"
        )


@pytest.mark.parametrize("name", sorted(painters.ARCHITECTURES))
def test_registered_architecture_is_exact(name):
    """Tested from the registry: an entry whose type cannot be built tiny fails here (add it to tests/tiny_any.py)."""
    outcome = coverage.check(name)
    assert outcome.status == "exact", f"registered architecture {name!r}: {outcome.status} ({outcome.reason})"


def test_record_meets_the_target():
    summary = coverage.summary(RECORD)
    assert summary["bugs"] == 0, "the record holds a wrong or crashing type"
    assert summary["exact_share_transformers"] >= coverage.EXACT_TARGET, summary


def test_table_is_generated_from_the_record():
    assert coverage.TABLE.read_text() == coverage.table(RECORD), "rerun python -m tests.architecture_coverage"


def test_readme_lists_the_record():
    assert coverage.readme_block(RECORD) in coverage.README.read_text(), (
        "the README's architecture list is stale: rerun python -m tests.architecture_coverage"
    )


def test_every_refusal_says_why():
    for model_type, outcome in RECORD["types"].items():
        if outcome["status"] == "refused":
            assert len(outcome["reason"]) > 60 and (
                "painters" in outcome["reason"] or "stage" in outcome["reason"] or "transformer" in outcome["reason"]
            ), model_type
