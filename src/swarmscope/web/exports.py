"""Downloads of every export format, made by ``swarmscope.export`` into a temporary folder.

Table formats (csv, parquet) are folders of files, so they come as one zip.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

from .. import export

DOWNLOADS: dict[str, tuple[str, str]] = {  # format -> (file name suffix, media type)
    "json": (".findings.json", "application/json"),
    "stix": (".stix.json", "application/json"),
    "gexf": (".gexf", "application/xml"),
    "graphml": (".graphml", "application/xml"),
    "csv": ("-csv.zip", "application/zip"),
    "parquet": ("-parquet.zip", "application/zip"),
    "html": ("-report.html", "text/html; charset=utf-8"),
}


def download(case: Path, fmt: str) -> tuple[bytes, str, str]:
    """(content, file name, media type) of ``fmt`` for the case's current findings.

    FileNotFoundError when the case has no findings yet; KeyError for an unknown format.
    """
    suffix, media = DOWNLOADS[fmt]
    name = case.stem + suffix
    with tempfile.TemporaryDirectory(prefix="swarmscope-export-") as tmp:
        out = Path(tmp) / ("out" if fmt in ("csv", "parquet") else name)
        if fmt == "html":
            export.report(case, out)
        else:
            export.export(case, fmt, out)
        if out.is_dir():
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
                for f in sorted(out.rglob("*")):
                    if f.is_file():
                        z.write(f, f"{case.stem}/{f.relative_to(out)}")
            return buf.getvalue(), name, media
        return out.read_bytes(), name, media
