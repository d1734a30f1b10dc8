from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppraisalConfig(AppConfig):
    name = "appraisal"
    verbose_name = _("Appraisal scheme")

    def ready(self):
        from . import checks  # noqa: F401  (registers the deployment checks)
