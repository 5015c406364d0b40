from django.apps import AppConfig


class AuthcheckConfig(AppConfig):
    name = "authcheck"
    verbose_name = "authcheck"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the model-level refusal of audit event updates and deletes.
        from authcheck.services import audit  # noqa: F401
