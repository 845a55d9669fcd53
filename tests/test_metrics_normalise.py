import math

import pytest

from painters.metrics.normalise import normalise


@pytest.mark.parametrize(
    ("score", "chance", "baseline", "expected"),
    [(0.8, 0.5, 0.8, 1.0), (0.5, 0.5, 0.8, 0.0), (0.65, 0.5, 0.8, 0.5), (0.4, 0.5, 0.8, -1 / 3), (0.9, 0.5, 0.7, 2.0)],
)
def test_linear(score, chance, baseline, expected):
    assert normalise(score, chance, baseline) == pytest.approx(expected)


def test_baseline_at_chance_is_nan():
    assert math.isnan(normalise(0.5, 0.5, 0.5))


def test_perplexity_on_log_scale_is_direction_aware():
    vocab = 1000.0
    assert normalise(10.0, vocab, 10.0, log=True) == pytest.approx(1.0)  # the baseline itself
    assert normalise(vocab, vocab, 10.0, log=True) == pytest.approx(0.0)  # uniform guessing
    assert normalise(100.0, vocab, 10.0, log=True) == pytest.approx(0.5)  # half way in log space
    assert normalise(10_000.0, vocab, 10.0, log=True) < 0  # worse than uniform
    assert normalise(5.0, vocab, 10.0, log=True) > 1  # better than the baseline
