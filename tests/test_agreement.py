"""Agreement statistics against values computed by hand and published examples."""

from __future__ import annotations

import pytest
from motiflens.core.agreement import bootstrap_ci, cohen_kappa, confusion, krippendorff_alpha_nominal, prf

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", example A: two observers, binary data,
# ten units, no missing values; published alpha = 0.095.
KRIPPENDORFF_A = ["0", "1", "0", "0", "0", "0", "0", "0", "1", "0"]
KRIPPENDORFF_B = ["1", "1", "1", "0", "0", "1", "0", "0", "0", "0"]

# A 2x2 table of 50 units: both "yes" 20, A yes / B no 5, A no / B yes 10, both "no" 15.
TABLE_A = ["yes"] * 20 + ["yes"] * 5 + ["no"] * 10 + ["no"] * 15
TABLE_B = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15

# Three categories, five units: (a,a) (a,b) (b,b) (c,c) (c,a).
THREE_A = ["a", "a", "b", "c", "c"]
THREE_B = ["a", "b", "b", "c", "a"]


def test_prf() -> None:
    assert prf(3, 1, 2) == (0.75, 0.6, pytest.approx(2 * 3 / (2 * 3 + 1 + 2)))
    assert prf(5, 0, 0) == (1.0, 1.0, 1.0)
    assert prf(0, 0, 0) == (None, None, None)
    # Predicted but never in the gold: precision 0, recall undefined, F1 0.
    assert prf(0, 2, 0) == (0.0, None, 0.0)
    # In the gold but never predicted: precision undefined, recall 0, F1 0.
    assert prf(0, 0, 3) == (None, 0.0, 0.0)
    with pytest.raises(ValueError):
        prf(-1, 0, 0)


def test_cohen_kappa_by_hand() -> None:
    # p_o = (20 + 15) / 50 = 0.7; A says yes 25/50, B 30/50, so p_e = 0.5 * 0.6 + 0.5 * 0.4 = 0.5;
    # kappa = (0.7 - 0.5) / (1 - 0.5) = 0.4.
    assert cohen_kappa(TABLE_A, TABLE_B) == pytest.approx(0.4)
    # p_o = 6/10; p_e = 0.2 * 0.4 + 0.8 * 0.6 = 0.56; kappa = 0.04 / 0.44 = 1/11.
    assert cohen_kappa(KRIPPENDORFF_A, KRIPPENDORFF_B) == pytest.approx(1 / 11)
    # p_o = 3/5; marginals A (a 2, b 1, c 2), B (a 2, b 2, c 1): p_e = (4 + 2 + 2) / 25 = 0.32;
    # kappa = 0.28 / 0.68 = 7/17.
    assert cohen_kappa(THREE_A, THREE_B) == pytest.approx(7 / 17)


def test_krippendorff_alpha_published_example() -> None:
    # Coincidences o_00 = 10, o_11 = 2, o_01 = o_10 = 4; n_0 = 14, n_1 = 6, n = 20;
    # alpha = 1 - (n - 1) * 8 / (2 * 14 * 6) = 1 - 152/168 = 0.0952.
    alpha = krippendorff_alpha_nominal(KRIPPENDORFF_A, KRIPPENDORFF_B)
    assert alpha == pytest.approx(1 - 152 / 168)
    assert round(alpha, 3) == 0.095


def test_krippendorff_alpha_by_hand() -> None:
    # 2x2 table: o_yy = 40, o_nn = 30, o_yn = o_ny = 15; n_y = 55, n_n = 45, n = 100;
    # alpha = 1 - 99 * 30 / (2 * 55 * 45) = 1 - 2970/4950 = 0.4.
    assert krippendorff_alpha_nominal(TABLE_A, TABLE_B) == pytest.approx(0.4)
    # Three categories: o_aa = o_bb = o_cc = 2, o_ab = o_ba = o_ac = o_ca = 1; n_a = 4, n_b = 3, n_c = 3, n = 10;
    # alpha = 1 - 9 * 4 / (100 - 16 - 9 - 9) = 1 - 36/66 = 5/11.
    assert krippendorff_alpha_nominal(THREE_A, THREE_B) == pytest.approx(5 / 11)


def test_perfect_agreement_is_one() -> None:
    coding = ["catalyst", "decorative", "referenced", "catalyst", "decorative"]
    assert cohen_kappa(coding, coding) == pytest.approx(1.0)
    assert krippendorff_alpha_nominal(coding, coding) == pytest.approx(1.0)
    assert bootstrap_ci(coding, coding, krippendorff_alpha_nominal, resamples=200) == (1.0, 1.0)


def test_systematic_disagreement_is_negative() -> None:
    a, b = ["x", "y"] * 5, ["y", "x"] * 5
    assert cohen_kappa(a, b) == pytest.approx(-1.0)
    # alpha = 1 - 19 * 20 / (400 - 200) = -0.9: alpha corrects for the small sample, kappa does not.
    assert krippendorff_alpha_nominal(a, b) == pytest.approx(-0.9)


@pytest.mark.parametrize("statistic", [cohen_kappa, krippendorff_alpha_nominal])
def test_undefined_cases(statistic) -> None:
    assert statistic([], []) is None
    # One category throughout: no expected disagreement, nothing to correct for chance.
    assert statistic(["catalyst"] * 4, ["catalyst"] * 4) is None
    with pytest.raises(ValueError, match="same units"):
        statistic(["a"], ["a", "b"])


def test_bootstrap_is_deterministic_and_brackets_the_estimate() -> None:
    first = bootstrap_ci(TABLE_A, TABLE_B, cohen_kappa, resamples=500, seed=7)
    assert first == bootstrap_ci(TABLE_A, TABLE_B, cohen_kappa, resamples=500, seed=7)
    assert first != bootstrap_ci(TABLE_A, TABLE_B, cohen_kappa, resamples=500, seed=8)
    low, high = first
    assert low is not None and high is not None
    assert low < 0.4 < high
    assert low >= -1.0 and high <= 1.0
    narrower = bootstrap_ci(TABLE_A, TABLE_B, cohen_kappa, resamples=500, level=0.5, seed=7)
    assert low < narrower[0] <= narrower[1] < high


def test_bootstrap_skips_undefined_resamples_and_edge_cases() -> None:
    # One disagreeing unit among ten: a draw without it is all "a" on both sides (kappa undefined, skipped), a
    # draw with it has p_o = p_e (kappa 0), so every counted draw gives 0.
    a, b = ["a"] * 10, ["a"] * 9 + ["b"]
    assert bootstrap_ci(a, b, cohen_kappa, resamples=300) == (pytest.approx(0.0), pytest.approx(0.0))
    assert bootstrap_ci([], [], cohen_kappa) == (None, None)
    assert bootstrap_ci(["a"] * 3, ["a"] * 3, cohen_kappa, resamples=50) == (None, None)
    with pytest.raises(ValueError):
        bootstrap_ci(["a"], ["a"], cohen_kappa, level=1.0)
    with pytest.raises(ValueError):
        bootstrap_ci(["a"], ["a"], cohen_kappa, resamples=0)


def test_confusion() -> None:
    matrix = confusion(TABLE_A, TABLE_B, ["yes", "no"])
    assert matrix == {"yes": {"yes": 20, "no": 5}, "no": {"yes": 10, "no": 15}}
    assert list(matrix) == ["yes", "no"] and list(matrix["yes"]) == ["yes", "no"]
    assert confusion([], [], ["x"]) == {"x": {"x": 0}}
    with pytest.raises(ValueError, match="maybe"):
        confusion(["yes"], ["maybe"], ["yes", "no"])
