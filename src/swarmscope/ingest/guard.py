"""Per-file safety nets of ``ingest()``: one bad file ends that file, never the run.

Two kinds of failure, each turned into quarantine rows naming the file:

- ``guarded``: a reader (importer) that raises on bad input. What was read
  before is kept; the rest of the file is one row ``reading stopped: ...``.
- ``refused``: a batch the case store refuses (a NOT NULL or type
  constraint: an importer handed over a row that is not canonical), or that
  cannot be prepared for it. The batch's transaction was rolled back, so
  each of its records is quarantined (a post under its record number), and
  the rest of the file is one row ``store refused a batch: ...``.

Both rows count as one record each, so per file ``records = inserted +
duplicates + quarantined`` holds.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc

from .. import model
from .base import Batch, IngestError, make_batch


def guarded(batches: Iterator[Batch], path: object) -> Iterator[Batch]:
    """The reader's batches; a reader that fails on bad input ends the file with one quarantine batch.

    One hostile file must not abort the others: what was read before the
    failure is kept (each batch is its own transaction), and the rest of the
    file is one quarantine row naming the error. The store's errors happen
    outside the reader: ``refused`` handles them.
    """
    records = 0
    try:
        for batch in batches:
            records += batch.records
            yield batch
    except (IngestError, MemoryError, KeyboardInterrupt):  # IngestError: a usage error (a missing --map)
        raise
    except Exception as e:  # any reader failure on bad input is reported, not fatal
        reason = (
            f"reading stopped: {type(e).__name__}: {str(e)[:300]} "
            f"(after {records:,} records; the rest of the file was not read)"
        )
        q = pa.table({"source_file": [str(path)], "record": pa.array([None], pa.int64()), "reason": [reason]})
        yield make_batch(None, None, model.conform(q, "quarantine"), bytes_done=0)


def refused(path: object, batch: Batch, error: BaseException, records_before: int) -> pa.Table:
    """Quarantine rows for a batch the store refused: one per record of it, and one for the file's rest.

    ``records_before``: the file's records before this batch. The rows are
    ``batch.records + 1`` (the last one counts as a record, as ``reading
    stopped`` does).
    """
    reason = f"store refused a batch: {type(error).__name__}: {str(error).strip()[:300]}"
    source = str(path)
    parts = [batch.quarantine.select(["source_file", "record", "reason", "excerpt"])]
    if batch.record_kind == "posts":
        main = batch.posts
        number = main["source_record"]
        excerpt = pc.binary_join_element_wise("post ", main["post_id"].cast(pa.string()), ": ", main["text"], "")
        excerpt = pc.fill_null(excerpt, pc.binary_join_element_wise("post ", main["post_id"], ""))
    else:  # an accounts file: an account row is its record
        main = batch.accounts
        number = pa.nulls(main.num_rows, pa.int64())
        excerpt = pc.binary_join_element_wise("account ", main["account_id"].cast(pa.string()), "")
    n = main.num_rows
    parts.append(
        pa.table(
            {
                "source_file": pa.array([source] * n, pa.string()),
                "record": number.cast(pa.int64()),
                "reason": pa.array([f"{reason} (this record was in it)"] * n, pa.string()),
                "excerpt": pc.utf8_slice_codeunits(pc.fill_null(excerpt, ""), 0, model.EXCERPT_CHARS),
            }
        )
    )
    done = records_before + batch.records
    parts.append(
        pa.table(
            {
                "source_file": [source],
                "record": pa.array([None], pa.int64()),
                "reason": [f"{reason} (after {done:,} records; the rest of the file was not read)"],
                "excerpt": [""],
            }
        )
    )
    return model.conform(pa.concat_tables([model.conform(p, "quarantine") for p in parts]), "quarantine")
