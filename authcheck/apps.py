from django.apps import AppConfig


class AuthcheckConfig(AppConfig):
    name = "authcheck"
    verbose_name = "authcheck"
    default_auto_field = "django.db.models.BigAutoField"
