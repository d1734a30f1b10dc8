"""schemathesis over the whole OpenAPI schema: generated requests for every operation, never a 5xx.

Full response conformance (every 4xx documented with its body) is not checked yet; see the closing note."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from appraisal.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


@pytest.fixture
def auth(db, small_document):
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from meetings.services import meeting_import

    user = get_user_model().objects.create_superuser("fuzz", "f@example.com", "pw-fuzz-123456")
    result = meeting_import(document=small_document(), actor=None)
    return {"Authorization": f"Token {Token.objects.create(user=user).key}", "rater": result.raters[0].token}


@pytest.mark.django_db(transaction=True)
@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_never_answers_5xx(case, auth):
    headers = (
        {"Authorization": f"Rater {auth['rater']}"}
        if case.path.startswith("/api/v1/rater")
        else {"Authorization": auth["Authorization"]}
    )
    response = case.call(headers=headers)
    assert response.status_code < 500, (case.method, case.path, response.status_code, response.text[:300])
