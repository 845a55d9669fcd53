import math

import pytest
import torch

from painters.metrics.language import (
    cosine_pairs,
    mean_pool,
    multiple_choice_accuracy,
    pearson,
    perplexity,
    rankdata,
    spearman,
)


def test_perplexity_of_a_uniform_distribution_is_the_vocabulary_size():
    vocab, tokens = 50, 13
    assert perplexity(tokens * math.log(vocab), tokens) == pytest.approx(vocab)


def test_perplexity_of_a_known_distribution():
    probabilities = [0.5, 0.25, 0.125]  # geometric mean 1/4 -> perplexity 4
    assert perplexity(-sum(math.log(p) for p in probabilities), 3) == pytest.approx(4.0)
    assert math.isnan(perplexity(0.0, 0))


def test_multiple_choice_acc_and_acc_norm_hand_computed():
    logliks = [[-4.0, -6.0], [-10.0, -6.0], [-3.0, -8.0]]
    lengths = [[4, 20], [20, 6], [3, 20]]
    gold = [1, 1, 1]
    # acc picks 0, 1, 0; acc_norm (per character) picks -1.0 vs -0.3 -> 1, -0.5 vs -1.0 -> 0, -1.0 vs -0.4 -> 1
    assert multiple_choice_accuracy(logliks, gold, lengths) == {"acc": pytest.approx(1 / 3), "acc_norm": 2 / 3}


def test_multiple_choice_ties_go_to_the_first_choice():
    assert multiple_choice_accuracy([[-1.0, -1.0]], [0]) == {"acc": 1.0, "acc_norm": 1.0}


def test_rankdata_averages_ties():
    assert rankdata(torch.tensor([10.0, 20.0, 20.0, 5.0])).tolist() == [2.0, 3.5, 3.5, 1.0]


def test_spearman_hand_computed():
    assert spearman(torch.tensor([1.0, 2.0, 3.0, 4.0]), torch.tensor([10.0, 20.0, 30.0, 40.0])) == pytest.approx(1.0)
    assert spearman(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([3.0, 2.0, 1.0])) == pytest.approx(-1.0)
    # ranks x = 1,2,3,4,5; y = 2,1,4,3,5 -> 1 - 6 * sum d^2 / (n (n^2 - 1)) = 1 - 6 * 4 / 120
    assert spearman(torch.tensor([1.0, 2, 3, 4, 5]), torch.tensor([2.0, 1, 4, 3, 5])) == pytest.approx(0.8)
    assert math.isnan(pearson(torch.ones(4), torch.arange(4.0)))


def test_spearman_matches_scipy_with_ties():
    stats = pytest.importorskip("scipy.stats")
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 6, (200,), generator=g).double()
    y = x + torch.randn(200, generator=g, dtype=torch.float64) * 2
    assert spearman(x, y) == pytest.approx(stats.spearmanr(x.numpy(), y.numpy()).statistic, abs=1e-12)


def test_mean_pool_weights_by_the_attention_mask():
    hidden = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]]])
    assert mean_pool(hidden, torch.tensor([[1, 1, 0]])).tolist() == [[2.0, 3.0]]
    a, b = torch.tensor([[1.0, 0.0], [1.0, 1.0]]), torch.tensor([[2.0, 0.0], [-1.0, -1.0]])
    assert cosine_pairs(a, b).tolist() == pytest.approx([1.0, -1.0])
