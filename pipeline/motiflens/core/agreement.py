"""Agreement statistics for `motiflens evaluate`: precision/recall/F1, Cohen's kappa, Krippendorff's alpha
(nominal, two coders), percentile bootstrap intervals and confusion matrices. Pure numpy, no I/O.

Every statistic returns None where it is undefined (no units; a single category used by both coders) rather
than a number that would look like a result.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np


def prf(tp: int, fp: int, fn: int) -> tuple[float | None, float | None, float | None]:
    """Precision tp/(tp+fp), recall tp/(tp+fn) and F1 2tp/(2tp+fp+fn); each None when its denominator is 0.

    F1 in this form equals the harmonic mean of precision and recall where both are defined, and is 0 (not
    undefined) when there are errors but no hit, e.g. a symbol the run predicts that the gold never has.
    """
    if min(tp, fp, fn) < 0:
        raise ValueError(f"counts must be >= 0, got tp={tp} fp={fp} fn={fn}")
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None
    return precision, recall, f1


def _codes(a: Sequence[str], b: Sequence[str]) -> tuple[np.ndarray, np.ndarray, int]:
    """Both codings as integer codes over their joint categories, and the number of categories."""
    if len(a) != len(b):
        raise ValueError(f"the two codings must code the same units: {len(a)} vs {len(b)} values")
    categories = sorted({*a, *b})
    index = {category: code for code, category in enumerate(categories)}
    return (np.array([index[value] for value in a], dtype=np.int64),
            np.array([index[value] for value in b], dtype=np.int64), len(categories))


def cohen_kappa(a: Sequence[str], b: Sequence[str]) -> float | None:
    """Cohen's kappa (p_o - p_e) / (1 - p_e) of two codings of the same units; None without units or when
    p_e = 1 (both coders used one and the same category throughout)."""
    codes_a, codes_b, k = _codes(a, b)
    n = len(codes_a)
    if n == 0:
        return None
    observed = float(np.mean(codes_a == codes_b))
    expected = float(np.dot(np.bincount(codes_a, minlength=k), np.bincount(codes_b, minlength=k))) / (n * n)
    if expected >= 1.0:
        return None
    return (observed - expected) / (1.0 - expected)


def krippendorff_alpha_nominal(a: Sequence[str], b: Sequence[str]) -> float | None:
    """Krippendorff's alpha for nominal data, two coders, every unit coded by both (Krippendorff 2004, ch. 11).

    From the coincidence matrix o (each unit adds its pair of values in both orders), its marginals n_c and
    n = sum n_c = 2N: alpha = 1 - (n - 1) * sum_{c != k} o_ck / sum_{c != k} n_c n_k. None without units or
    when every value falls in one category (no expected disagreement).
    """
    codes_a, codes_b, k = _codes(a, b)
    if len(codes_a) == 0:
        return None
    coincidences = np.zeros((k, k), dtype=np.float64)
    np.add.at(coincidences, (codes_a, codes_b), 1.0)
    np.add.at(coincidences, (codes_b, codes_a), 1.0)
    marginals = coincidences.sum(axis=1)
    n = marginals.sum()
    observed = coincidences.sum() - np.trace(coincidences)
    expected = n * n - float(np.dot(marginals, marginals))
    if expected <= 0:
        return None
    return float(1.0 - (n - 1.0) * observed / expected)


def bootstrap_ci(
    a: Sequence[str],
    b: Sequence[str],
    statistic: Callable[[Sequence[str], Sequence[str]], float | None],
    resamples: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float | None, float | None]:
    """Percentile bootstrap interval of `statistic` over units: draw N units with replacement `resamples`
    times (numpy's default_rng(seed), so the same inputs always give the same interval), skip draws where the
    statistic is undefined, and take the (1-level)/2 and (1+level)/2 percentiles (linear interpolation).
    (None, None) without units or when no draw gives a value."""
    if len(a) != len(b):
        raise ValueError(f"the two codings must code the same units: {len(a)} vs {len(b)} values")
    if resamples < 1:
        raise ValueError(f"resamples must be >= 1, got {resamples}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be between 0 and 1, got {level}")
    n = len(a)
    if n == 0:
        return None, None
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(resamples):
        draw = rng.integers(0, n, size=n)
        value = statistic([a[i] for i in draw], [b[i] for i in draw])
        if value is not None:
            values.append(value)
    if not values:
        return None, None
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(np.array(values, dtype=np.float64), [tail, 100.0 - tail])
    return float(low), float(high)


def confusion(a: Sequence[str], b: Sequence[str], labels: Sequence[str]) -> dict[str, dict[str, int]]:
    """Counts {gold label: {predicted label: n}} with rows `a` (gold) and columns `b` (predicted), both in the
    order of `labels`; a value outside `labels` is a ValueError."""
    if len(a) != len(b):
        raise ValueError(f"the two codings must code the same units: {len(a)} vs {len(b)} values")
    matrix = {row: dict.fromkeys(labels, 0) for row in labels}
    for gold, predicted in zip(a, b, strict=True):
        for value in (gold, predicted):
            if value not in matrix:
                raise ValueError(f"value {value!r} is not one of the labels {list(labels)}")
        matrix[gold][predicted] += 1
    return matrix
