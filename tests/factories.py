"""Factories and small setup documents for tests."""

from decimal import Decimal

import factory

from appraisal.models import Category, Criterion, Cycle, Department, Grade, RaterRole, Scheme
from meetings.models import Meeting, Presentation, Rater
from meetings.services import rater_token_generate, rater_token_hash


def small_meeting_document(*, departments: int = 3, seats: int = 4, **meeting) -> dict:
    """A two-role meeting (leadership numeric, public graded) with `departments` departments."""
    doc = {
        "cycle": {"year": 2021, "name": "2021年度测试考评"},
        "meeting": {
            "title": "测试考评大会",
            "date": "2022-01-20",
            "mode": "per_presentation",
            "full_mark": 100,
            "rank_within_category": False,
            "tie_break_roles": ["leadership"],
            "reward": {"top": 1},
            "admonition": {"bottom": 1},
            "meeting_weight": "1",
        },
        "categories": [{"code": "party", "name": "党群部门"}, {"code": "econ", "name": "经济部门"}],
        "departments": [
            {"code": f"D{i:02d}", "name": f"测试部门{i}", "category": "party" if i % 2 else "econ"}
            for i in range(1, departments + 1)
        ],
        "roles": [
            {
                "code": "leadership",
                "name": "四大班子领导",
                "weight": "0.5",
                "trim": 1,
                "criteria": [
                    {"code": "performance", "name": "工作实绩", "kind": "numeric", "max": 60, "step": "0.5"},
                    {"code": "innovation", "name": "创新创优", "kind": "numeric", "max": 40, "step": "0.5"},
                ],
            },
            {
                "code": "public",
                "name": "群众代表",
                "weight": "0.5",
                "trim": 0,
                "criteria": [
                    {
                        "code": "overall",
                        "name": "总体评价",
                        "kind": "grade",
                        "choices": [
                            {"code": "excellent", "label": "优秀", "points": 100},
                            {"code": "good", "label": "良好", "points": 85},
                            {"code": "fair", "label": "一般", "points": 70},
                            {"code": "poor", "label": "较差", "points": 50},
                        ],
                    }
                ],
            },
        ],
        "raters": [
            {"role": "leadership", "count": seats},
            {"role": "public", "count": seats},
            {"role": "public", "name": "王芳", "department": "D01"},
        ],
    }
    doc["meeting"].update(meeting)
    return doc


class CycleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cycle

    year = 2021
    name = factory.Sequence(lambda n: f"周期{n}")


class SchemeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Scheme

    cycle = factory.SubFactory(CycleFactory)
    name = factory.Sequence(lambda n: f"方案{n}")


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    scheme = factory.SubFactory(SchemeFactory)
    code = factory.Sequence(lambda n: f"cat{n}")
    name = factory.Sequence(lambda n: f"类别{n}")


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department

    category = factory.SubFactory(CategoryFactory)
    scheme = factory.SelfAttribute("category.scheme")
    code = factory.Sequence(lambda n: f"D{n:03d}")
    name = factory.Sequence(lambda n: f"部门{n}")


class RaterRoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RaterRole

    scheme = factory.SubFactory(SchemeFactory)
    code = factory.Sequence(lambda n: f"role{n}")
    name = factory.Sequence(lambda n: f"评委类别{n}")
    weight = Decimal("0.5")
    trim = 1


class CriterionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Criterion

    role = factory.SubFactory(RaterRoleFactory)
    code = factory.Sequence(lambda n: f"c{n}")
    name = factory.Sequence(lambda n: f"指标{n}")
    kind = Criterion.Kind.NUMERIC
    max_value = Decimal("100")
    step = Decimal("0.5")


class GradeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Grade

    criterion = factory.SubFactory(CriterionFactory, kind=Criterion.Kind.GRADE, max_value=None, step=None)
    code = factory.Sequence(lambda n: f"g{n}")
    label = factory.Sequence(lambda n: f"等次{n}")
    points = Decimal("85")


class MeetingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Meeting

    scheme = factory.SubFactory(SchemeFactory)
    title = factory.Sequence(lambda n: f"考评大会{n}")
    date = "2022-01-20"
    reward_top = 1
    admonition_bottom = 1


class PresentationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Presentation

    meeting = factory.SubFactory(MeetingFactory)
    department = factory.SubFactory(DepartmentFactory, category__scheme=factory.SelfAttribute("...meeting.scheme"))
    order = factory.Sequence(lambda n: n + 1)


class RaterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Rater

    meeting = factory.SubFactory(MeetingFactory)
    role = factory.SubFactory(RaterRoleFactory, scheme=factory.SelfAttribute("..meeting.scheme"))
    seat_no = factory.Sequence(lambda n: n + 1)
    token_hash = factory.LazyFunction(lambda: rater_token_hash(rater_token_generate()))
