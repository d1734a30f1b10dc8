"""SCORING.md 13 by hand-computed examples: margins, ranks under other trims and weights, fragility,
and the bootstrap's probabilities."""

import itertools
import random
from decimal import Decimal as D

import pytest

from reports.scoring import results_from_config, roles_from_config, tallies_from_totals
from reports.stability import bootstrap, bootstrap_seed, fragile, margins, rank_by_trim, rank_range_weights


def config(departments, roles=(("a", "1", 0),), *, reward=None, admonition=None, tie_break=()):
    return {
        "meeting": 1,
        "full_mark": "100",
        "rank_within_category": False,
        "tie_break_roles": list(tie_break),
        "reward": {"top": None, "top_percent": None, "min_score": None, **(reward or {})},
        "admonition": {"bottom": None, "bottom_percent": None, "below": None, **(admonition or {})},
        "meeting_weight": "1",
        "components": [],
        "roles": [{"code": c, "weight": w, "trim": t} for c, w, t in roles],
        "departments": [{"code": d, "name": d, "category": "x", "order": i} for i, d in enumerate(departments)],
        "categories": {"x": "X"},
        "component_scores": {},
        "adjustments": {},
        "vetoes": [],
    }


def official(cfg, totals):
    roles = roles_from_config(cfg)
    return results_from_config(cfg, tallies_from_totals(totals, {r.code: r.trim for r in roles}))


def one_role(values):
    return {(dept, "a"): [D(v) for v in totals] for dept, totals in values.items()}


FIVE = {"D1": ["90"], "D2": ["80"], "D3": ["80"], "D4": ["70"], "D5": ["60"]}


def test_margins_with_counts_at_both_lines():
    cfg = config(list(FIVE), reward={"top": 1}, admonition={"bottom": 1})

    got = margins(official(cfg, one_role(FIVE)), cfg)

    assert got["D1"] == (D("10"), D("30"))  # 90 - f2, 90 - f5
    assert got["D2"] == (D("-10"), D("20"))  # 80 - f1
    assert got["D4"] == (D("-20"), D("10"))
    assert got["D5"] == (D("-30"), D("-10"))  # 60 - f4: inside the bottom band


def test_margins_with_a_tie_at_the_line_are_zero_on_both_sides():
    cfg = config(list(FIVE), reward={"top": 2}, admonition={"bottom": 1})

    got = margins(official(cfg, one_role(FIVE)), cfg)

    assert got["D2"][0] == D("0") and got["D3"][0] == D("0")  # 80 - f3 and 80 - f2


def test_margins_with_percents():
    cfg = config(list(FIVE), reward={"top_percent": "40"}, admonition={"bottom_percent": "20"})

    got = margins(official(cfg, one_role(FIVE)), cfg)

    # k_r = ceil(0.4 * 5) = 2, k_a = ceil(0.2 * 5) = 1
    assert got["D1"] == (D("10"), D("30")) and got["D4"] == (D("-10"), D("10"))


@pytest.mark.parametrize(("reward", "admonition"), [({"top": 0}, {"bottom": 5}), ({}, {"bottom": 7})])
def test_margins_are_null_when_k_is_zero_or_at_least_n(reward, admonition):
    cfg = config(list(FIVE), reward=reward, admonition=admonition)

    got = margins(official(cfg, one_role(FIVE)), cfg)

    assert set(got.values()) == {(None, None)}


def test_rank_by_trim_moves_a_department_with_one_low_outlier():
    cfg = config(["A", "B"], roles=(("a", "1", 1),))
    totals = one_role({"A": ["50", "80", "80", "80", "80", "100"], "B": ["79"] * 6})

    got = rank_by_trim(cfg, totals)

    # trim 0: A 470/6 = 78.33 < 79; trim 1 and 2: A keeps 80s.
    assert got == {"A": {"0": 2, "1": 1, "2": 1}, "B": {"0": 1, "1": 2, "2": 2}}


def test_rank_range_weights_over_one_role_weight_moved_by_twenty_percent():
    cfg = config(["A", "B", "C"], roles=(("a", "0.5", 0), ("b", "0.5", 0)))
    totals = {
        ("A", "a"): [D(90)], ("A", "b"): [D(70)],  # M = 80
        ("B", "a"): [D(70)], ("B", "b"): [D(88)],  # M = 79
        ("C", "a"): [D(50)], ("C", "b"): [D(50)],
    }  # fmt: skip
    rows = official(cfg, totals)

    got = rank_range_weights(cfg, totals, rows)

    # a x 0.8: A 78.89, B 80 -> B first; b x 1.2: A 79.09, B 79.82 -> B first.
    assert got == {"A": [1, 2], "B": [1, 2], "C": [3, 3]}


def test_fragile_department_next_to_the_line_and_a_firm_one():
    cfg = config(["A", "B", "C"], reward={"top": 1}, admonition={"bottom": 1})
    totals = one_role({"A": ["90", "90"], "B": ["89", "91", "60"], "C": ["50", "50"]})

    got = fragile(cfg, totals, official(cfg, totals))

    # Without B's 60, B ties A at 90 and is rewarded too; nothing single moves A or C.
    assert got == {"A": False, "B": True, "C": False}


def brute_force_fragile(cfg, totals):
    base = {r.department: (r.reward, r.admonition) for r in official(cfg, totals)}
    out = dict.fromkeys(base, False)
    for key, values in totals.items():
        for i in range(len(values)):
            changed = dict(totals)
            changed[key] = values[:i] + values[i + 1 :]
            if not changed[key]:
                del changed[key]
            for row in official(cfg, changed):
                if (row.reward, row.admonition) != base[row.department]:
                    out[row.department] = True
    return out


@pytest.mark.parametrize("seed", range(12))
def test_fragile_agrees_with_removing_every_ballot_one_by_one(seed):
    rng = random.Random(seed)
    departments = [f"D{i}" for i in range(6)]
    cfg = config(
        departments,
        roles=(("a", "0.6", 1), ("b", "0.4", 0)),
        reward={"top": 2},
        admonition={"bottom": 1, "below": "62"},
        tie_break=("a",),
    )
    totals = {
        (d, r): [D(rng.randrange(100, 200)) / 2 for _ in range(rng.randint(1, 6))]
        for d, r in itertools.product(departments, ("a", "b"))
    }

    assert fragile(cfg, totals, official(cfg, totals)) == brute_force_fragile(cfg, totals)


def test_bootstrap_is_reproducible_and_certain_far_from_every_line():
    cfg = config(["A", "B", "C", "D"], reward={"top": 1}, admonition={"bottom": 1})
    rng = random.Random(4)
    totals = one_role(
        {
            "A": [str(rng.randint(90, 99)) for _ in range(15)],
            "B": [str(rng.randint(70, 80)) for _ in range(15)],
            "C": [str(rng.randint(70, 80)) for _ in range(15)],
            "D": [str(rng.randint(40, 50)) for _ in range(15)],
        }
    )
    rows = official(cfg, totals)
    seed = bootstrap_seed(ballots_sha256="ab" * 32, config=cfg)

    first = bootstrap(cfg, totals, rows, seed=seed)
    again = bootstrap(cfg, totals, rows, seed=seed)

    assert first == again
    assert first["A"] == ("1.00", "0.00") and first["D"] == ("0.00", "1.00")


def test_bootstrap_gives_about_half_to_two_departments_tied_across_the_line():
    cfg = config(["A", "B", "C"], reward={"top": 1})
    same = [str(v) for v in range(70, 90)]
    totals = one_role({"A": same, "B": list(reversed(same)), "C": ["40"] * 20})
    rows = official(cfg, totals)

    p_a = D(bootstrap(cfg, totals, rows, seed=7)["A"][0])
    p_b = D(bootstrap(cfg, totals, rows, seed=7)["B"][0])

    assert abs(p_a - D("0.5")) <= D("0.06") and abs(p_b - D("0.5")) <= D("0.06")
