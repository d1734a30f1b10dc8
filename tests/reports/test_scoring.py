"""Every rule of SCORING.md, on hand-computed examples."""

from decimal import Decimal as D

import pytest

from reports.scoring import (
    DepartmentInfo,
    Role,
    RoleTally,
    Rules,
    ballot_total,
    competition_ranks,
    compute_results,
    meeting_score,
    q4,
    rank_count,
    role_tally,
)

LEAD = Role("leadership", D("0.5"), 1)
PUBLIC = Role("public", D("0.5"), 0)


def dept(code, category="party", order=None):
    return DepartmentInfo(code=code, name=f"部门{code}", category=category, order=order or int(code[1:]))


def tallies_from(totals: dict, roles=(LEAD, PUBLIC)) -> dict:
    trims = {r.code: r.trim for r in roles}
    return {(d, r): role_tally([D(str(t)) for t in ts], trims[r]) for (d, r), ts in totals.items()}


def by_code(rows):
    return {r.department: r for r in rows}


def test_q4_rounds_half_up():
    assert q4(D("1.00005")) == D("1.0001")
    assert q4(D("1.00004999")) == D("1.0000")
    assert q4(D("2.5")) == D("2.5000")


def test_ballot_total_exact_sum_of_mixed_points():
    # numeric 55.5 + numeric 30 + grade "good" worth 85 ... in one form
    assert ballot_total([D("55.5"), D("30"), D("0.1"), D("0.2")]) == D("85.8")


def test_worked_example_of_section_9():
    rules = Rules(tie_break_roles=(), reward_top=1, admonition_bottom=1)
    tallies = tallies_from(
        {("A", "leadership"): [90, 80, 70, 100], ("A", "public"): [60, 70], ("B", "leadership"): [80, 80]}
    )
    rows = compute_results(
        rules=rules,
        roles=[LEAD, PUBLIC],
        departments=[dept("A1"), dept("B2")],
        tallies={("A1", r): t for (d, r), t in tallies.items() if d == "A"}
        | {("B2", r): t for (d, r), t in tallies.items() if d == "B"},
    )
    a, b = by_code(rows)["A1"], by_code(rows)["B2"]

    assert a.role_scores["leadership"] == {"score": "85.0000", "ballots": 4, "kept": 2}
    assert a.role_scores["public"] == {"score": "65.0000", "ballots": 2, "kept": 2}
    assert a.meeting_score == D("75.0000")
    assert b.role_scores["leadership"] == {"score": "80.0000", "ballots": 2, "kept": 2}
    assert b.role_scores["public"] == {"score": None, "ballots": 0, "kept": 0}
    assert b.meeting_score == D("80.0000")
    assert b.flags == ["missing_roles"] and b.missing_roles == ["public"]
    assert (b.rank, a.rank) == (1, 2)
    assert [r.department for r in rows] == ["B2", "A1"]


def test_role_tally_keeps_all_when_n_not_above_twice_trim():
    assert role_tally([D(80), D(90)], 1) == RoleTally(2, 2, D(170))
    assert role_tally([D(80), D(90), D(100), D(70)], 2) == RoleTally(4, 4, D(340))


def test_role_tally_trim_zero_keeps_all():
    assert role_tally([D(1), D(2), D(3)], 0).score == D("2.0000")


def test_role_tally_trim_two_drops_two_each_side():
    tally = role_tally([D(x) for x in (10, 20, 30, 40, 50, 60)], 2)

    assert (tally.ballots, tally.kept, tally.score) == (6, 2, D("35.0000"))


def test_role_tally_trims_one_of_equal_extremes():
    # 90, 90, 80, 70, 70: drop one 90 and one 70 -> 90, 80, 70 -> 80
    assert role_tally([D(x) for x in (90, 90, 80, 70, 70)], 1).score == D("80.0000")


def test_role_score_mean_rounded_half_up_to_four_places():
    # (85.5 + 90 + 70) / 3 = 81.8333...
    assert role_tally([D("85.5"), D("90"), D("70")], 0).score == D("81.8333")
    # (0.00005 * 2) / 2 -> exact half at the fifth place rounds up
    assert role_tally([D("10.00005"), D("10.00005")], 0).score == D("10.0001")


def test_meeting_score_renormalises_missing_roles():
    roles = [Role("a", D("0.3"), 1), Role("b", D("0.2"), 1), Role("c", D("0.5"), 1)]

    # (0.3*80 + 0.2*90) / 0.5 = 84
    assert meeting_score({"a": D(80), "b": D(90), "c": None}, roles) == D("84.0000")
    assert meeting_score({"a": None, "b": None, "c": None}, roles) is None


def test_meeting_score_weights_need_not_sum_to_one():
    roles = [Role("a", D(3), 0), Role("b", D(1), 0)]

    assert meeting_score({"a": D(80), "b": D(60)}, roles) == D("75.0000")


def test_no_ballots_department_not_ranked_and_listed_last():
    rules = Rules(reward_top=1, admonition_bottom=1)
    tallies = tallies_from({("D01", "leadership"): [80]})
    rows = compute_results(rules=rules, roles=[LEAD, PUBLIC], departments=[dept("D01"), dept("D02")], tallies=tallies)
    d2 = by_code(rows)["D02"]

    assert d2.flags == ["no_ballots"]
    assert (d2.meeting_score, d2.final, d2.rank, d2.bottom_rank) == (None, None, None, None)
    assert (d2.reward, d2.admonition) == (False, False)
    assert rows[-1].department == "D02"
    assert by_code(rows)["D01"].rank == 1


def test_components_weighted_into_final_score():
    rules = Rules(meeting_weight=D("0.6"), components=(("annual", D("0.3")), ("survey", D("0.1"))))
    tallies = tallies_from({("D01", "leadership"): [80], ("D01", "public"): [90]})
    rows = compute_results(
        rules=rules,
        roles=[LEAD, PUBLIC],
        departments=[dept("D01")],
        tallies=tallies,
        components={"D01": {"annual": D("88.5"), "survey": D("70")}},
    )

    # M = 85; F = 0.6*85 + 0.3*88.5 + 0.1*70 = 51 + 26.55 + 7 = 84.55
    assert rows[0].final == D("84.5500")
    assert rows[0].components == {"annual": D("88.5"), "survey": D("70")}


def test_missing_component_not_ranked_and_flagged():
    rules = Rules(meeting_weight=D("0.6"), components=(("annual", D("0.4")),), reward_top=1)
    tallies = tallies_from({("D01", "leadership"): [80], ("D02", "leadership"): [70]})
    rows = compute_results(
        rules=rules,
        roles=[LEAD, PUBLIC],
        departments=[dept("D01"), dept("D02")],
        tallies=tallies,
        components={"D02": {"annual": D(90)}},
    )
    d1, d2 = by_code(rows)["D01"], by_code(rows)["D02"]

    assert "missing_component" in d1.flags
    assert (d1.final, d1.rank) == (None, None)
    assert d1.meeting_score == D("80.0000")
    assert (d2.final, d2.rank, d2.reward) == (D("78.0000"), 1, True)


def test_adjustments_added_to_final():
    rules = Rules(reward_top=1)
    tallies = tallies_from({("D01", "leadership"): [80], ("D02", "leadership"): [79]})
    rows = compute_results(
        rules=rules,
        roles=[LEAD],
        departments=[dept("D01"), dept("D02")],
        tallies=tallies,
        adjustments={"D01": D("-1.5"), "D02": D("0.25")},
    )

    assert by_code(rows)["D01"].final == D("78.5000")
    assert by_code(rows)["D02"].final == D("79.2500")
    assert by_code(rows)["D02"].rank == 1


def test_veto_blocks_reward_and_admonishes():
    rules = Rules(reward_top=1, admonition_bottom=1)
    tallies = tallies_from(
        {("D01", "leadership"): [95], ("D02", "leadership"): [85], ("D03", "leadership"): [75]}, roles=[LEAD]
    )
    rows = compute_results(
        rules=rules, roles=[LEAD], departments=[dept("D01"), dept("D02"), dept("D03")], tallies=tallies, vetoes={"D01"}
    )
    d1, d2, d3 = (by_code(rows)[c] for c in ("D01", "D02", "D03"))

    assert (d1.rank, d1.reward, d1.admonition) == (1, False, True)
    assert (d2.reward, d2.admonition) == (False, False)
    assert (d3.reward, d3.admonition) == (False, True)


def test_tie_broken_by_tie_break_roles_in_order():
    lead, pub, vet = Role("leadership", D(1), 0), Role("public", D(1), 0), Role("veteran", D(1), 0)
    rules = Rules(tie_break_roles=("leadership", "veteran"))
    tallies = tallies_from(
        {
            # all three have M = 80; leadership ties A and B; veteran decides
            ("D01", "leadership"): [80],
            ("D01", "public"): [80],
            ("D01", "veteran"): [80],
            ("D02", "leadership"): [80],
            ("D02", "public"): [70],
            ("D02", "veteran"): [90],
            ("D03", "leadership"): [85],
            ("D03", "public"): [75],
            ("D03", "veteran"): [80],
        },
        roles=[lead, pub, vet],
    )
    rows = compute_results(
        rules=rules, roles=[lead, pub, vet], departments=[dept("D01"), dept("D02"), dept("D03")], tallies=tallies
    )

    assert [(r.department, r.rank) for r in rows] == [("D03", 1), ("D02", 2), ("D01", 3)]
    assert {r.department: r.bottom_rank for r in rows} == {"D01": 1, "D02": 2, "D03": 3}


def test_tie_break_missing_role_counts_as_lowest():
    rules = Rules(tie_break_roles=("public",))
    tallies = tallies_from({("D01", "leadership"): [80], ("D02", "leadership"): [80], ("D02", "public"): [80]})
    rows = compute_results(rules=rules, roles=[LEAD, PUBLIC], departments=[dept("D01"), dept("D02")], tallies=tallies)

    assert {r.department: r.rank for r in rows} == {"D02": 1, "D01": 2}


def test_ties_that_stay_share_rank_and_skip():
    rules = Rules(tie_break_roles=("leadership",))
    tallies = tallies_from(
        {
            ("D01", "leadership"): [90],
            ("D02", "leadership"): [80],
            ("D03", "leadership"): [80],
            ("D04", "leadership"): [70],
        },
        roles=[LEAD],
    )
    rows = compute_results(
        rules=rules, roles=[LEAD], departments=[dept(f"D0{i}") for i in range(1, 5)], tallies=tallies
    )

    assert [(r.department, r.rank, r.bottom_rank) for r in rows] == [
        ("D01", 1, 4),
        ("D02", 2, 2),
        ("D03", 2, 2),
        ("D04", 4, 1),
    ]


def test_competition_ranks():
    assert competition_ranks([(3,), (2,), (2,), (1,)]) == [1, 2, 2, 4]
    assert competition_ranks([(1,), (1,), (1,)]) == [1, 1, 1]


def test_bottom_ranks_with_ties_at_the_bottom():
    rules = Rules(admonition_bottom=1)
    tallies = tallies_from(
        {("D01", "leadership"): [90], ("D02", "leadership"): [70], ("D03", "leadership"): [70]}, roles=[LEAD]
    )
    rows = compute_results(
        rules=rules, roles=[LEAD], departments=[dept("D01"), dept("D02"), dept("D03")], tallies=tallies
    )
    by = by_code(rows)

    assert (by["D02"].bottom_rank, by["D03"].bottom_rank, by["D01"].bottom_rank) == (1, 1, 3)
    assert (by["D02"].admonition, by["D03"].admonition, by["D01"].admonition) == (True, True, False)


def test_rank_count_top_percent_uses_ceil():
    assert rank_count(count=None, percent=D(20), n=19) == 4  # 3.8 -> 4
    assert rank_count(count=None, percent=D(20), n=15) == 3  # exactly 3
    assert rank_count(count=None, percent=D("0.1"), n=1) == 1
    assert rank_count(count=2, percent=None, n=19) == 2
    assert rank_count(count=None, percent=None, n=19) == 0


def test_top_percent_rewards_ceil_of_ranked():
    rules = Rules(reward_top_percent=D(20))
    tallies = tallies_from({(f"D0{i}", "leadership"): [100 - i] for i in range(1, 7)}, roles=[LEAD])
    rows = compute_results(
        rules=rules, roles=[LEAD], departments=[dept(f"D0{i}") for i in range(1, 7)], tallies=tallies
    )

    # ceil(0.2 * 6) = 2
    assert [r.department for r in rows if r.reward] == ["D01", "D02"]


def test_percent_counts_from_ranked_departments_only():
    rules = Rules(reward_top_percent=D(20))
    tallies = tallies_from({(f"D0{i}", "leadership"): [100 - i] for i in range(1, 6)}, roles=[LEAD])
    departments = [dept(f"D0{i}") for i in range(1, 7)]  # D06 has no ballots
    rows = compute_results(rules=rules, roles=[LEAD], departments=departments, tallies=tallies)

    # n = 5 ranked: ceil(1.0) = 1
    assert [r.department for r in rows if r.reward] == ["D01"]


def test_min_score_withholds_reward():
    rules = Rules(reward_top=2, reward_min_score=D(85))
    tallies = tallies_from(
        {("D01", "leadership"): [90], ("D02", "leadership"): [84.9999], ("D03", "leadership"): [50]}, roles=[LEAD]
    )
    rows = compute_results(
        rules=rules, roles=[LEAD], departments=[dept("D01"), dept("D02"), dept("D03")], tallies=tallies
    )

    assert {r.department: r.reward for r in rows} == {"D01": True, "D02": False, "D03": False}


def test_min_score_reached_exactly_rewards():
    rules = Rules(reward_top=1, reward_min_score=D(85))
    tallies = tallies_from({("D01", "leadership"): [85]}, roles=[LEAD])
    rows = compute_results(rules=rules, roles=[LEAD], departments=[dept("D01")], tallies=tallies)

    assert rows[0].reward is True


def test_below_admonishes_regardless_of_rank():
    rules = Rules(admonition_bottom=1, admonition_below=D(60))
    tallies = tallies_from(
        {("D01", "leadership"): [59.9999], ("D02", "leadership"): [59], ("D03", "leadership"): [60]}, roles=[LEAD]
    )
    rows = compute_results(
        rules=rules, roles=[LEAD], departments=[dept("D01"), dept("D02"), dept("D03")], tallies=tallies
    )

    # D02 bottom rank 1; D01 below 60; D03 exactly 60 is not below
    assert {r.department: r.admonition for r in rows} == {"D01": True, "D02": True, "D03": False}


def test_boundary_conflict_when_ties_make_both():
    # Two departments tie; reward top 1 and admonition bottom 1 both reach them.
    rules = Rules(reward_top=1, admonition_bottom=1)
    tallies = tallies_from({("D01", "leadership"): [80], ("D02", "leadership"): [80]}, roles=[LEAD])
    rows = compute_results(rules=rules, roles=[LEAD], departments=[dept("D01"), dept("D02")], tallies=tallies)

    for row in rows:
        assert (row.rank, row.bottom_rank) == (1, 1)
        assert (row.reward, row.admonition) == (False, False)
        assert row.flags == ["boundary_conflict"]


def test_boundary_conflict_from_below_without_min_score():
    rules = Rules(reward_top=1, admonition_below=D(60))
    tallies = tallies_from({("D01", "leadership"): [55], ("D02", "leadership"): [50]}, roles=[LEAD])
    rows = compute_results(rules=rules, roles=[LEAD], departments=[dept("D01"), dept("D02")], tallies=tallies)
    by = by_code(rows)

    assert (by["D01"].reward, by["D01"].admonition, by["D01"].flags) == (False, False, ["boundary_conflict"])
    assert (by["D02"].reward, by["D02"].admonition) == (False, True)


def test_rank_within_category_ranks_each_scope():
    rules = Rules(rank_within_category=True, reward_top=1, admonition_bottom=1)
    departments = [
        dept("D01", "party"),
        dept("D02", "econ"),
        dept("D03", "party"),
        dept("D04", "econ"),
        dept("D05", "party"),
    ]
    tallies = tallies_from(
        {
            ("D01", "leadership"): [70],
            ("D02", "leadership"): [95],
            ("D03", "leadership"): [90],
            ("D04", "leadership"): [60],
            ("D05", "leadership"): [80],
        },
        roles=[LEAD],
    )
    rows = compute_results(rules=rules, roles=[LEAD], departments=departments, tallies=tallies)

    assert [(r.department, r.scope, r.rank, r.bottom_rank, r.reward, r.admonition) for r in rows] == [
        ("D03", "party", 1, 3, True, False),
        ("D05", "party", 2, 2, False, False),
        ("D01", "party", 3, 1, False, True),
        ("D02", "econ", 1, 2, True, False),
        ("D04", "econ", 2, 1, False, True),
    ]


def test_void_ballots_are_not_in_tallies_by_construction():
    # The engine counts what it is given; selectors pass only submitted ballots.
    # A role whose only ballot was voided has no tally and is missing.
    rows = compute_results(
        rules=Rules(),
        roles=[LEAD, PUBLIC],
        departments=[dept("D01")],
        tallies=tallies_from({("D01", "leadership"): [80]}),
    )

    assert rows[0].missing_roles == ["public"]


def test_row_as_dict_formats_decimals_with_four_places():
    rows = compute_results(
        rules=Rules(reward_top=1),
        roles=[LEAD],
        departments=[dept("D01")],
        tallies=tallies_from({("D01", "leadership"): [80]}, roles=[LEAD]),
    )

    row = rows[0].as_dict()
    assert row["meeting_score"] == "80.0000"
    assert row["final"] == "80.0000"
    assert row["adjustments"] == "0.0000"
    assert row["role_scores"]["leadership"] == {"score": "80.0000", "ballots": 1, "kept": 1}


@pytest.mark.parametrize(
    ("totals", "trim", "expected"), [([], 1, None), ([D(50)], 1, D("50.0000")), ([D(1), D(2), D(3)], 1, D("2.0000"))]
)
def test_role_tally_edge_sizes(totals, trim, expected):
    assert role_tally(totals, trim).score == expected
