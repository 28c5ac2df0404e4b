"""The gunicorn logger the Procfile names: access lines without tokens or full IP addresses.

`gunicorn --logger-class webapp.gunicorn_logger.RedactingLogger` keeps gunicorn's access-log
format (`--access-logformat`) but fills its atoms from `webapp.logsafe`: the route instead of
the URL, query values replaced, the client's address reduced to its network (IPv4 /24, IPv6
/48), the Referer reduced to its origin, and no request or response header, cookie or environ
value beyond a few harmless ones. Gunicorn's own error lines pass through the same filter.
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from .addresses import reduce_ip
from .logsafe import SAFE_PATH, RedactingFilter, origin, safe_query, unmatched_path

#: Atoms that describe the exchange, not the visitor: kept as gunicorn computes them.
KEPT_ATOMS = ("l", "t", "s", "m", "H", "b", "B", "T", "D", "M", "L", "p", "a")
#: Headers a format may name (`%({content-type}o)s`); any other header atom logs as "-".
SAFE_HEADERS = frozenset(
    {
        "{content-type}i",
        "{content-length}i",
        "{accept}i",
        "{x-request-id}i",
        "{content-type}o",
        "{content-length}o",
        "{x-request-id}o",
    }
)


class RedactingLogger(Logger):
    """gunicorn's logger, with every atom that could carry a token or an address made safe."""

    def setup(self, cfg: Any) -> None:
        """Set up as gunicorn does, then filter the error log too."""
        super().setup(cfg)
        if not any(isinstance(f, RedactingFilter) for f in self.error_log.filters):
            self.error_log.addFilter(RedactingFilter())

    def atoms(self, resp: Any, req: Any, environ: dict, request_time: Any) -> dict[str, Any]:
        """The access-log atoms, made safe (see the module's docstring)."""
        given = super().atoms(resp, req, environ, request_time)
        path = environ.get(SAFE_PATH) or unmatched_path(environ.get("PATH_INFO") or "/")
        query = safe_query(environ.get("QUERY_STRING") or "")
        target = path + (f"?{query}" if query else "")
        atoms = {name: given.get(name) for name in KEPT_ATOMS}
        atoms.update(
            {
                "h": reduce_ip(environ.get("REMOTE_ADDR")) or "-",
                "u": "-",
                "r": f"{environ.get('REQUEST_METHOD')} {target} {environ.get('SERVER_PROTOCOL')}",
                "U": path,
                "q": query,
                "f": origin(environ.get("HTTP_REFERER")),
            }
        )
        atoms.update({name: given[name] for name in SAFE_HEADERS if name in given})
        return atoms
