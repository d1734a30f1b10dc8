"""SCORING.md 11 and 14 by hand-computed examples: the uniform rule, each diagnostic flag just below
and just above its threshold, and Kendall's W with ties."""

from decimal import Decimal as D

import pytest

from reports.diagnostics import SeatBallot, invalid_summary, kendall_w, rater_profiles, uniform_invalid_seats


@pytest.mark.parametrize(
    ("totals", "invalid"),
    [
        ([D(80)] * 4, False),  # uniform_min - 1 ballots
        ([D(80)] * 5, True),  # uniform_min ballots
        ([D(80)] * 5 + [D("80.5")], False),  # one differs
    ],
)
def test_uniform_rule_at_the_minimum(totals, invalid):
    assert uniform_invalid_seats({"s": totals}, uniform_min=5) == ({"s"} if invalid else set())


def test_invalid_summary_counts_seats_and_ballots_per_role_never_which():
    seats = {
        1: [SeatBallot("D1", "lead", D(80))] * 5,
        2: [SeatBallot("D1", "lead", D(70))] * 6,
        3: [SeatBallot("D1", "pub", D(90))] * 2,
    }

    got = invalid_summary(seats, {1, 2}, ["lead", "pub"])

    assert got == {"lead": {"raters": 2, "ballots": 11}, "pub": {"raters": 0, "ballots": 0}}


def profile(totals, *, scores=(D(70), D(70), D(70)), others=None):
    departments = [f"D{i}" for i in range(len(totals))]
    seats = {"s": [SeatBallot(d, "r", D(t)) for d, t in zip(departments, totals, strict=True)]}
    role_scores = {(d, "r"): s for d, s in zip(departments, scores, strict=True)}
    group = {(d, "r"): [D(t), *(others or [D(70)] * 4)] for d, t in zip(departments, totals, strict=True)}
    return rater_profiles(
        seats,
        aliases={"s": "A-01"},
        role_scores=role_scores,
        totals=group,
        trims={"r": 1},
        full_mark=D(100),
    )[0]


@pytest.mark.parametrize(
    ("totals", "flags"),
    [
        (["80", "80", "80"], ["uniform"]),  # leniency 10: not above 10
        (["80", "80", "80.0003"], ["lenient"]),  # leniency 10.0001
        (["60", "60", "60"], ["uniform"]),  # -10: not below -10
        (["60", "60", "59.9997"], ["severe"]),  # -10.0001
        (["85", "55", "85"], []),  # spread 15: not above 15
        (["85", "55", "85.0003"], ["erratic"]),  # spread 15.0001
    ],
)
def test_diagnostic_flags_just_below_and_above_their_thresholds(totals, flags):
    assert profile(totals)["flags"] == flags


def test_diagnostic_figures_by_hand():
    got = profile(["85", "55", "82"], scores=(D(70), D(60), D(80)))

    # deviations 15, -5, 2: leniency 12/3 = 4, spread 22/3 = 7.3333; kept range of each group with
    # trim 1 over [t, 70, 70, 70, 70] is [70, 70]: 85 above, 55 below, 82 above -> all three extreme.
    assert (got["leniency"], got["spread"], got["extreme_share"], got["ballots"]) == ("4.0000", "7.3333", "1.0000", 3)
    assert got["alias"] == "A-01" and got["role"] == "r"


def test_seats_under_three_counting_ballots_get_no_profile():
    seats = {"s": [SeatBallot("D0", "r", D(80)), SeatBallot("D1", "r", D(80))]}

    got = rater_profiles(
        seats,
        aliases={"s": "A"},
        role_scores={("D0", "r"): D(70), ("D1", "r"): D(70)},
        totals={("D0", "r"): [D(80)], ("D1", "r"): [D(80)]},
        trims={"r": 0},
        full_mark=D(100),
    )

    assert got == []


def test_kendall_w_with_ties_by_hand():
    # Rank sums 3.5, 6.5, 8, 12 (mean 7.5): S = 37.5; ties of rater 3: 2^3 - 2 = 6.
    # W = 12 * 37.5 / (3^2 * (4^3 - 4) - 3 * 6) = 450 / 522 = 0.86207.
    matrix = [[D(1), D(2), D(3), D(4)], [D(1), D(3), D(2), D(4)], [D(1), D(1), D(3), D(4)]]

    assert kendall_w(matrix) == D("0.8621")


def test_kendall_w_perfect_agreement_and_too_few_raters():
    assert kendall_w([[D(1), D(2), D(3)]] * 3) == D("1.0000")
    assert kendall_w([[D(1), D(2), D(3)]] * 2) is None
    assert kendall_w([[D(1), D(2)]] * 4) is None
