"""swarmscope: find coordinated inauthentic behaviour, with publishable evidence.

The public Python API. Names are imported on first use, so ``import
swarmscope`` stays cheap for the command line.

    import swarmscope as ss
    case = ss.open_case("case.duckdb")
    case.ingest("exports/")
    findings = case.detect()
    case.campaigns().to_pandas()
    edges = ss.network(dataframe, time_window=10, min_participation=2)

(docs/python-api.md).

(``swarmscope.detect`` is the package of detectors and ``swarmscope.demo``
a module, so the pipeline's ``detect`` is exported as ``run_detect`` and the
demo as ``run_demo``; ``Case.detect`` is the usual way in.)
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_API = {
    "open_case": ("swarmscope.api", "open_case"),
    "Case": ("swarmscope.api", "Case"),
    "network": ("swarmscope.api", "network"),
    "build_network": ("swarmscope.api", "build_network"),
    "formats": ("swarmscope.api", "formats"),
    "run_demo": ("swarmscope.api", "run_demo"),
    "run_detect": ("swarmscope.pipeline", "detect"),
    "DetectParams": ("swarmscope.config", "DetectParams"),
    "NetworkSpec": ("swarmscope.config", "NetworkSpec"),
    "load_config": ("swarmscope.config", "load_config"),
    "load_findings": ("swarmscope.findings", "load_findings"),
    "findings_path": ("swarmscope.findings", "findings_path"),
}
__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    if name in _API:
        module, attribute = _API[name]
        value = getattr(import_module(module), attribute)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'swarmscope' has no attribute {name!r}")
