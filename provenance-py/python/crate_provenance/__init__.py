"""Verify that a published ``.crate`` contains exactly what its git repository holds.

>>> import crate_provenance as cp
>>> report = cp.verify(crate_file="fnv-1.0.7.crate", repo="rust-fnv.git")  # doctest: +SKIP
>>> report.verdict  # doctest: +SKIP
'match'

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
    __version__,
    inspect,
    list_files,
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
    "UnsupportedError",
    "__version__",
    "exceptions",
    "inspect",
    "list_files",
    "verify",
]
