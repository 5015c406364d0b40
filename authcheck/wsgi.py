"""WSGI entry point (gunicorn authcheck.wsgi).

The application is Django's, wrapped once: after a 413 the connection is closed. The refused
body may still be on its way (a declared 2 GB upload is refused before reading any of it), so
the next bytes on the connection are not a request. A WSGI application may not send the
hop-by-hop ``Connection`` header itself (PEP 3333; gunicorn drops it, Django's development
server asserts), so the wrapper asks the server: gunicorn's ``start_response`` is bound to its
response object, whose ``force_close()`` makes it answer ``Connection: close`` and close.
Servers without that method keep their own behaviour.
"""

import os
from collections.abc import Callable, Iterable
from typing import Any

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "authcheck.settings")

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def close_after_too_large(app: WsgiApp) -> WsgiApp:
    """``app``, with the connection closed after any 413 it answers (see the module docstring)."""

    def wrapped(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        def start(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            if status.startswith("413"):
                server_response = getattr(start_response, "__self__", None)
                force_close = getattr(server_response, "force_close", None)
                if callable(force_close):
                    force_close()
            return start_response(status, headers, *exc_info)

        return app(environ, start)

    return wrapped


application = close_after_too_large(get_wsgi_application())
