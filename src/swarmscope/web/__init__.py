"""The investigator's workbench: a local web app over one case (docs/web.md).

``create_app`` builds the ASGI app (Starlette) over a case's DuckDB file and
its findings.json; ``serve`` runs it with uvicorn. The app reads the case and
writes only the analyst's labels, plus whatever a detection run started from
the page writes (the same ``pipeline.detect`` as the command line).
"""

from __future__ import annotations

from .app import create_app
from .server import serve

__all__ = ["create_app", "serve"]
