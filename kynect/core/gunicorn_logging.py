"""Gunicorn's access log with personal data and link secrets masked, as the application's own log is
(`kynect.core.logging`): `--logger-class kynect.core.gunicorn_logging.PiiMaskingLogger`."""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from kynect.core.logging import mask_pii


class PiiMaskingLogger(Logger):
    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> Any:
        atoms = super().atoms(resp, req, environ, request_time)
        for key, value in atoms.items():
            if isinstance(value, str):
                atoms[key] = mask_pii(value)
        return atoms
