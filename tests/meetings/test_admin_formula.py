"""The admin edits the city's formula as fields and band rows (issue 15), checked like the import."""

from decimal import Decimal
from pathlib import Path

import pytest

from appraisal.parsers import loads_exact
from meetings.models import AuditEntry, Meeting
from meetings.services import meeting_import
from tests.reports.test_publish_integrity import management_of_inline

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def city():
    document = loads_exact((ROOT / "data/city-appraisal.json").read_text(encoding="utf-8"))
    return meeting_import(document=document, actor=None).meeting


def page_data(client, url) -> dict:
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    return data | management_of_inline(client, url)


def test_bands_are_shown_as_rows_and_saved_from_rows(admin_client, city):
    url = f"/admin/meetings/meeting/{city.pk}/change/"
    page = admin_client.get(url).content.decode()
    data = page_data(admin_client, url)

    assert "95 1.02\n90 1.00" in page.replace("\r", "")  # the band table as rows, not JSON
    data["coefficient_2_bands"] = "95 1.05\n90 1.00\n85 0.98\n80 0.96\n0 0.90"
    response = admin_client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:1500]
    city.refresh_from_db()
    assert city.final["coefficients"][1]["map"]["bands"][0] == {"min": "95", "coefficient": "1.05"}
    assert city.final["coefficients"][1]["map"]["bands"][-1] == {"min": "0", "coefficient": "0.90"}
    assert AuditEntry.objects.filter(meeting=city, action="setup.changed").exists()


def test_bands_without_a_zero_band_are_refused_and_nothing_changes(admin_client, city):
    url = f"/admin/meetings/meeting/{city.pk}/change/"
    data = page_data(admin_client, url)
    data["coefficient_2_bands"] = "95 1.02\n90 1.00"
    before = Meeting.objects.get(pk=city.pk).final

    response = admin_client.post(url, data, follow=True)

    assert Meeting.objects.get(pk=city.pk).final == before
    assert "必须有一档从 0 开始" in response.content.decode()


def test_switching_to_the_weighted_sum_clears_the_formula_only_when_the_weights_allow(admin_client, city):
    url = f"/admin/meetings/meeting/{city.pk}/change/"
    data = page_data(admin_client, url) | {"formula": "weighted_sum"}

    admin_client.post(url, data, follow=True)

    # The components carry no weights: the weighted sum is refused by the setup rules; nothing changes.
    assert Meeting.objects.get(pk=city.pk).final is not None
    assert Decimal(Meeting.objects.get(pk=city.pk).meeting_weight) == Decimal(1)


@pytest.fixture
def district(sample_document):
    return meeting_import(document=sample_document, actor=None).meeting


def test_tie_break_is_an_ordered_choice_of_role_names_and_the_quota_a_choice(admin_client, district):
    url = f"/admin/meetings/meeting/{district.pk}/change/"
    page = admin_client.get(url).content.decode()
    data = page_data(admin_client, url) | {"tie_break_1": "public", "tie_break_2": "leadership", "tie_break_3": ""}
    saved = admin_client.post(url, data)
    twice = admin_client.post(url, page_data(admin_client, url) | {"tie_break_1": "veteran", "tie_break_2": "veteran"})

    district.refresh_from_db()
    assert '<option value="leadership">四大班子领导</option>' in page or "四大班子领导</option>" in page
    assert "总体评价（群众代表）" in page and ">优秀</option>" in page
    assert 'name="tie_break_roles"' not in page or 'type="hidden" name="tie_break_roles"' in page
    assert saved.status_code == 302, saved.content.decode()[:2000]
    assert district.tie_break_roles == ["public", "leadership"]
    assert twice.status_code == 200 and district.tie_break_roles == ["public", "leadership"]
    assert AuditEntry.objects.filter(meeting=district, action="setup.changed").count() == 1
    for heading in ("计分与排名", "表扬与诫勉", "测评规则"):
        assert heading in page


def test_the_page_that_grants_organizers_names_permissions_in_chinese(admin_client, admin_user, city):
    page = admin_client.get(f"/admin/meetings/meeting/{city.pk}/permissions/user-manage/{admin_user.pk}/")

    text = page.content.decode()
    assert page.status_code == 200
    assert "组织：运行、审核和发布本次大会" in text and "监督：查看本次大会的全部内容" in text
    assert "Can run, review and publish" not in text


def test_repeat_flags_are_two_numbers_not_json(admin_client, district):
    url = f"/admin/meetings/meeting/{district.pk}/change/"
    page = admin_client.get(url).content.decode()
    saved = admin_client.post(
        url, page_data(admin_client, url) | {"streak_repeat_admonition": 3, "streak_repeat_reward": ""}
    )

    district.refresh_from_db()
    assert "{&quot;repeat_admonition" not in page and '"repeat_admonition":' not in page
    assert saved.status_code == 302, saved.content.decode()[:1500]
    assert district.streak_rule == {"repeat_admonition": 3}
