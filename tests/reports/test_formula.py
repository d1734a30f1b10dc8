"""SCORING.md 10 by hand-computed examples: a base times coefficients, linear and banded, the
adjustments after the product, missing sources, and the setup rules of the formula."""

from decimal import Decimal as D

import pytest

from reports.formula import coefficient, product_final
from tests.reports.test_stability import config, official

BANDS = {
    "kind": "bands",
    "bands": [
        {"min": "95", "coefficient": "1.02"},
        {"min": "90", "coefficient": "1.00"},
        {"min": "85", "coefficient": "0.98"},
        {"min": "0", "coefficient": "0.94"},
    ],
}


@pytest.mark.parametrize(
    ("value", "expected"),
    [("95", "1.02"), ("94.9999", "1.00"), ("90", "1.00"), ("85", "0.98"), ("84.99", "0.94"), ("0", "0.94")],
)
def test_band_coefficient_on_and_just_below_each_min(value, expected):
    assert coefficient(D(value), BANDS) == D(expected)


def test_linear_coefficient_is_exact():
    assert coefficient(D("91.52"), {"kind": "linear", "full": "100"}) == D("0.9152")


def test_product_with_two_coefficients_and_an_adjustment_after_it():
    final = {
        "formula": "base_times_coefficients",
        "base": "development",
        "coefficients": [
            {"source": "party", "map": {"kind": "linear", "full": "100"}},
            {"source": "meeting", "map": BANDS},
        ],
    }

    got = product_final(
        final, meeting=D("88.5"), components={"development": D("84.89"), "party": D("98.69")}, adjustments=D("-0.5")
    )

    # 84.89 x 0.9869 = 83.777941; x 0.98 (88.5 is in the 85 band) = 82.10238218; - 0.5 after the
    # product = 81.60238218 -> 81.6024
    assert got == D("81.6024")


def city_config(departments):
    cfg = config(departments, reward={"top": 1}, admonition={"bottom": 1})
    cfg["components"] = [{"code": "development", "weight": None}, {"code": "party", "weight": None}]
    cfg["final"] = {
        "formula": "base_times_coefficients",
        "base": "development",
        "coefficients": [
            {"source": "party", "map": {"kind": "linear", "full": "100"}},
            {"source": "meeting", "map": BANDS},
        ],
    }
    return cfg


def test_ranking_by_the_product_formula_with_missing_sources_unranked():
    cfg = city_config(["A", "B", "C", "E"])
    cfg["component_scores"] = {
        "A": {"development": "90", "party": "100"},
        "B": {"development": "95", "party": "90"},
        "C": {"development": "99"},  # no party score
        "E": {"development": "80", "party": "100"},
    }
    cfg["adjustments"] = {"A": "1"}
    totals = {("A", "a"): [D(96)], ("B", "a"): [D(86)], ("C", "a"): [D(90)]}  # E sent no ballot

    rows = {row.department: row for row in official(cfg, totals)}

    # A: 90 x 1.00 x 1.02 + 1 = 92.8; B: 95 x 0.90 x 0.98 = 83.79
    assert (rows["A"].final, rows["B"].final) == (D("92.8000"), D("83.7900"))
    assert (rows["A"].rank, rows["B"].rank) == (1, 2)
    assert rows["C"].final is None and "missing_component" in rows["C"].flags
    assert rows["E"].final is None and "no_ballots" in rows["E"].flags


def test_stability_and_fragility_follow_the_product_formula():
    from reports.stability import bootstrap, fragile

    cfg = city_config(["A", "B", "C"])
    cfg["component_scores"] = {d: {"development": "90", "party": "100"} for d in "ABC"}
    totals = {("A", "a"): [D(96), D(96)], ("B", "a"): [D(94), D(97)], ("C", "a"): [D(80), D(80)]}
    rows = official(cfg, totals)

    # A: 90 x 1.02 = 91.8; B's mean 95.5 -> 91.8 too (tied, both rewarded). Without B's 97, B falls to
    # band 0.98 (94) and loses the reward: B is fragile; A keeps its reward whatever single ballot goes.
    assert [(r.department, r.final, r.reward) for r in rows] == [
        ("A", D("91.8000"), True), ("B", D("91.8000"), True), ("C", D("84.6000"), False),
    ]  # fmt: skip
    assert fragile(cfg, totals, rows) == {"A": False, "B": True, "C": False}
    assert bootstrap(cfg, totals, rows, seed=1)["C"] == ("0.00", "1.00")
