from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ResettlementConfig(AppConfig):
    name = "resettlement"
    verbose_name = _("Resettlement")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from .languages import remember_preferred_language

        user_logged_in.connect(remember_preferred_language, dispatch_uid="preferred_language")
        # Connects the sign-in receiver that starts the session clocks, before any request.
        from . import middleware  # noqa: F401

        # Keeps the household and payment summaries that reports read in step with every write.
        from .services import payment_summaries, summaries  # noqa: F401
