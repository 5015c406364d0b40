"""The Celery app ``authcheck`` (``celery -A authcheck worker``)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "authcheck.settings")

app = Celery("authcheck")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["authcheck"])
