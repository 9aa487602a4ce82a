"""Gunicorn's own log lines in the application's format, with personal data and link secrets masked as
the application's are (`kynect.core.logging`): `--logger-class kynect.core.gunicorn_logging.PiiMaskingLogger`.

Each access line carries the request's id, read from the X-Request-ID response header that
`RequestIdMiddleware` sets: in JSON as the `request_id` field, in text wherever the access log format
says `%({x-request-id}o)s`."""

from __future__ import annotations

import os
from typing import Any

from gunicorn.glogging import Logger

from kynect.core.logging import JsonFormatter, LogContextFilter, PiiMaskingFilter, mask_pii

# Atoms gunicorn writes itself (time, status, sizes, durations, process id) hold no personal data, and a
# duration such as 0.012345 would otherwise be masked as a code.
SERVER_ATOMS = frozenset({"t", "s", "b", "B", "T", "D", "M", "L", "p"})


def _log_format() -> str:
    """The LOG_FORMAT setting. Gunicorn sets up its logger before it loads the application, so the
    settings module is named here as config/wsgi.py names it."""
    from django.conf import settings

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    return str(settings.LOG_FORMAT)


class PiiMaskingLogger(Logger):
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        json_lines = _log_format() == "json"
        for handler in [*self.error_log.handlers, *self.access_log.handlers]:
            handler.addFilter(LogContextFilter())
            handler.addFilter(PiiMaskingFilter())
            if json_lines:
                handler.setFormatter(JsonFormatter())

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> Any:
        atoms = super().atoms(resp, req, environ, request_time)
        for key, value in atoms.items():
            if isinstance(value, str) and key not in SERVER_ATOMS:
                atoms[key] = mask_pii(value)
        return atoms

    def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
        if not self.access_log_enabled:
            return
        atoms = self.atoms_wrapper_class(self.atoms(resp, req, environ, request_time))
        request_id = next((value for name, value in resp.headers if name.lower() == "x-request-id"), "")
        self.access_log.info(self.cfg.access_log_format, atoms, extra={"request_id": request_id})
