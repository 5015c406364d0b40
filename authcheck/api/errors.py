"""Problem-JSON exception handler (placeholder until the API work lands)."""

from rest_framework.views import exception_handler


def problem_exception_handler(exc, context):  # pragma: no cover - replaced by the API work
    return exception_handler(exc, context)
