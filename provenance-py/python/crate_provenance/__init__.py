"""Verify that a published ``.crate`` contains exactly what its git repository holds.

>>> import crate_provenance as cp
>>> report = cp.verify(crate_file="fnv-1.0.7.crate", repo="rust-fnv.git")  # doctest: +SKIP
>>> report.verdict  # doctest: +SKIP
'match'

:func:`scan` verifies many crate versions with the batch engine of ``crate-provenance scan``
(same inputs, same results file line for line, same summary); :mod:`crate_provenance.distributed`
spreads it over a Dask cluster.

:func:`verify` returns a :class:`Report` for every verdict (a mismatch is data, not an
exception) and raises a :class:`~crate_provenance.exceptions.ProvenanceError` subclass when the
inputs are unusable. :func:`inspect` examines a crate alone, without its repository, and returns
an :class:`Inspection`. The work runs in Rust with the GIL released, so threads verify in parallel.
"""

from . import exceptions
from ._native import (
    VERDICTS,
    Assisted,
    Difference,
    FileCounts,
    FileDigest,
    Finding,
    Inspection,
    Report,
    Source,
    Summary,
    __version__,
    inspect,
    list_files,
    scan,
    verify,
)
from .exceptions import (
    ArchiveError,
    CrateNotFoundError,
    FetchError,
    InternalError,
    InvalidInputError,
    LimitExceededError,
    LocalFileNotFoundError,
    LocalIOError,
    LocalPermissionError,
    ProvenanceError,
    RebuildError,
    UnsupportedError,
)

__all__ = [
    "VERDICTS",
    "ArchiveError",
    "Assisted",
    "CrateNotFoundError",
    "Difference",
    "FetchError",
    "FileCounts",
    "FileDigest",
    "Finding",
    "Inspection",
    "InternalError",
    "InvalidInputError",
    "LimitExceededError",
    "LocalFileNotFoundError",
    "LocalIOError",
    "LocalPermissionError",
    "ProvenanceError",
    "RebuildError",
    "Report",
    "Source",
    "Summary",
    "UnsupportedError",
    "__version__",
    "exceptions",
    "inspect",
    "list_files",
    "scan",
    "verify",
]
