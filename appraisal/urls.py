"""Root URLs: the one module that knows every app."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, register_converter
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from appraisal import views as appraisal_views
from appraisal.converters import CodeConverter, IdConverter
from appraisal.login import RateLimitedLoginView, RateLimitedPasswordResetView, password_reset_enabled
from meetings import api as meetings_api
from reports import api as reports_api
from reports import api_publicity as publicity_api
from reports import views as reports_views
from reports import views_feedback as reports_feedback
from voting import api as voting_api
from voting import views as voting_views
from voting.ballot_view import ballot_put

register_converter(IdConverter, "id")
register_converter(CodeConverter, "code")

api_v1 = [
    path("meetings/import", meetings_api.MeetingImportApi.as_view(), name="meetings-import"),
    path("meetings/<id:meeting_id>/aggregate", reports_api.AggregateApi.as_view(), name="aggregate"),
    path(
        "meetings/<id:meeting_id>/aggregations/<id:run_id>",
        reports_api.AggregationStatusApi.as_view(),
        name="aggregation-status",
    ),
    path("meetings/<id:meeting_id>/results", reports_api.ResultsApi.as_view(), name="results"),
    path("meetings/<id:meeting_id>/diagnostics", reports_api.DiagnosticsApi.as_view(), name="diagnostics"),
    path("meetings/<id:meeting_id>/appeals", publicity_api.AppealsApi.as_view(), name="appeals"),
    path(
        "meetings/<id:meeting_id>/appeals/<id:appeal_id>/attachment",
        publicity_api.AppealAttachmentApi.as_view(),
        name="appeal-attachment",
    ),
    path("meetings/<id:meeting_id>/feedback/<code:code>", publicity_api.FeedbackApi.as_view(), name="feedback"),
    path(
        "meetings/<id:meeting_id>/appeals/<id:appeal_id>/decision",
        publicity_api.AppealDecisionApi.as_view(),
        name="appeal-decision",
    ),
    path("meetings/<id:meeting_id>/component-sheets", reports_api.ComponentSheetApi.as_view(), name="component-sheets"),
    path(
        "meetings/<id:meeting_id>/component-sheets/<uuid:sheet_id>/commit",
        reports_api.ComponentSheetCommitApi.as_view(),
        name="component-sheet-commit",
    ),
    path("meetings/<id:meeting_id>/previous", reports_api.MeetingPreviousApi.as_view(), name="meeting-previous"),
    path("meetings/<id:meeting_id>/publish", reports_api.PublishApi.as_view(), name="publish"),
    path(
        "meetings/<id:meeting_id>/components/<code:code>",
        reports_api.ComponentScoresApi.as_view(),
        name="component-scores",
    ),
    path("meetings/<id:meeting_id>/adjustments", reports_api.AdjustmentsApi.as_view(), name="adjustments"),
    path(
        "meetings/<id:meeting_id>/adjustments/<id:adjustment_id>",
        reports_api.AdjustmentDetailApi.as_view(),
        name="adjustment-detail",
    ),
    path("meetings/<id:meeting_id>/vetoes", reports_api.VetoesApi.as_view(), name="vetoes"),
    path("meetings/<id:meeting_id>/vetoes/<code:department>", reports_api.VetoDetailApi.as_view(), name="veto-detail"),
    path("rater", voting_api.RaterApi.as_view(), name="rater"),
    path("meetings/<id:meeting_id>/voting", voting_api.VotingApi.as_view(), name="voting"),
    path("meetings/<id:meeting_id>/progress", voting_api.ProgressApi.as_view(), name="progress"),
    path("meetings/<id:meeting_id>/paper", voting_api.PaperEntryApi.as_view(), name="paper-entry"),
    path(
        "meetings/<id:meeting_id>/paper/<id:entry_id>/resolve",
        voting_api.PaperResolveApi.as_view(),
        name="paper-resolve",
    ),
    path("meetings/<id:meeting_id>/surveys/<code:role>", voting_api.SurveyImportApi.as_view(), name="survey-import"),
    path("meetings/<id:meeting_id>/surveys", voting_api.SurveyBatchListApi.as_view(), name="survey-batches"),
    path(
        "meetings/<id:meeting_id>/survey-batches/<id:batch_id>/withdraw",
        voting_api.SurveyWithdrawApi.as_view(),
        name="survey-withdraw",
    ),
    path(
        "meetings/<id:meeting_id>/snapshots/<id:snapshot_id>/export.<str:fmt>",
        reports_api.SnapshotExportApi.as_view(),
        name="snapshot-export",
    ),
    path("meetings/<id:meeting_id>/ballots/void", reports_api.BallotVoidApi.as_view(), name="ballot-void"),
    path("meetings/<id:meeting_id>/audit", reports_api.AuditLogApi.as_view(), name="audit-log"),
    path("meetings/<id:meeting_id>/countdown", reports_api.CountdownApi.as_view(), name="countdown"),
    path(
        "public/meetings/<id:meeting_id>/export.<str:fmt>", reports_api.PublicExportApi.as_view(), name="public-export"
    ),
    path(
        "public/meetings/<id:meeting_id>/receipts/<code:code>",
        reports_api.PublicReceiptApi.as_view(),
        name="public-receipt",
    ),
    path("public/meetings/<id:meeting_id>/results", reports_api.PublicResultsApi.as_view(), name="public-results"),
]

password_reset_urls = [
    path("accounts/password_reset/", RateLimitedPasswordResetView.as_view(), name="password_reset"),
    path(
        "accounts/password_reset/done/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]

urlpatterns = [
    # The two paths a hall hammers come first: Django tries the patterns in order, and the API's list
    # sits behind the admin, the rater pages and the console (0.2 ms a request, measured in issue 19).
    # A ballot is a plain Django view that hands whatever is not the common case to RaterBallotApi.
    path("api/v1/rater/ballots/<id:presentation_id>", ballot_put, name="rater-ballot"),
    path("api/v1/meetings/<id:meeting_id>/live", voting_views.live_state, name="live"),
    path("", reports_views.home, name="home"),
    path("healthz", appraisal_views.healthz, name="healthz"),
    # Both logins (the console's and the admin's) are rate-limited.
    path("accounts/login/", RateLimitedLoginView.as_view(), name="login"),
    path(
        "admin/login/",
        RateLimitedLoginView.as_view(
            template_name="admin/login.html",
            extra_context={"site_header": admin.site.site_header, "site_title": admin.site.site_title},
        ),
    ),
    path("admin/", admin.site.urls),
    path("", include("voting.urls")),
    path("console/", reports_views.console_index, name="console"),
    path("console/m/<id:meeting_id>/", reports_views.console_meeting, name="console-meeting"),
    path("console/m/<id:meeting_id>/voting", reports_views.console_voting, name="console-voting"),
    path("console/m/<id:meeting_id>/countdown", reports_views.console_countdown, name="console-countdown"),
    path("console/m/<id:meeting_id>/aggregate", reports_views.console_aggregate, name="console-aggregate"),
    path("console/m/<id:meeting_id>/review/", reports_views.console_review, name="console-review"),
    path("feedback/m/<id:meeting_id>/<code:department>/", reports_feedback.feedback_page, name="feedback-page"),
    path(
        "feedback/m/<id:meeting_id>/<code:department>/feedback.pdf", reports_feedback.feedback_pdf, name="feedback-pdf"
    ),
    path("console/m/<id:meeting_id>/feedback.pdf", reports_feedback.feedback_pdf_all, name="feedback-pdf-all"),
    path("console/m/<id:meeting_id>/history/<code:department>/", reports_views.console_history, name="console-history"),
    path("console/m/<id:meeting_id>/publish", reports_views.console_publish, name="console-publish"),
    path("console/m/<id:meeting_id>/void", reports_views.console_void, name="console-void"),
    path("console/m/<id:meeting_id>/adjust", reports_views.console_adjust, name="console-adjust"),
    path("console/m/<id:meeting_id>/audit/", reports_views.console_audit, name="console-audit"),
    path("console/m/<id:meeting_id>/rehearsal", reports_views.rehearsal_create, name="rehearsal-create"),
    path(
        "console/m/<id:meeting_id>/rehearsals/<id:job_id>/",
        reports_views.rehearsal_status,
        name="rehearsal-status",
    ),
    path("console/m/<id:meeting_id>/paper/", reports_views.console_paper, name="console-paper"),
    path("projector/m/<id:meeting_id>/", reports_views.projector, name="projector"),
    path("projector/m/<id:meeting_id>/state.json", reports_views.projector_json, name="projector-json"),
    path("results/m/<id:meeting_id>/", reports_views.public_results, name="public-results-page"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password_change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password_change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    # Password reset mails a link: offered only where mail is configured, and throttled per address.
    *(password_reset_urls if password_reset_enabled() else []),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
]

handler404 = "appraisal.views.not_found"
