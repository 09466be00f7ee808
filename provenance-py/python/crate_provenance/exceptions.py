"""Exceptions raised by :mod:`crate_provenance`.

Every error is a :class:`ProvenanceError` whose :attr:`~ProvenanceError.kind` is the stable
error-kind name shared by every surface of crate-provenance (the CLI's JSON ``error.kind``, the
C ``prov_result`` codes). Errors about local files are also the matching built-in ``OSError``
subclasses, malformed input is also a ``ValueError``, and an unknown crate is also a
``LookupError``, so ordinary ``except`` clauses work.

A mismatch is **not** an exception: :func:`crate_provenance.verify` returns a
:class:`~crate_provenance.Report` for every verdict. Ctrl-C during a verification raises the
built-in ``KeyboardInterrupt``.

Error kind → class:

==================== ===============================================================
``io``               :class:`LocalIOError` (``OSError``)
``not_found``        :class:`LocalFileNotFoundError` (``FileNotFoundError``)
``permission_denied`` :class:`LocalPermissionError` (``PermissionError``)
``invalid_archive``  :class:`ArchiveError` (``ValueError``)
``invalid_metadata`` :class:`ArchiveError` (``ValueError``)
``limit_exceeded``   :class:`LimitExceededError`
``git``              :class:`RebuildError`
``network``          :class:`FetchError`
``crate_not_found``  :class:`CrateNotFoundError` (``FetchError``, ``LookupError``)
``checksum_mismatch`` :class:`FetchError`
``url_policy``       :class:`FetchError`
``invalid_input``    :class:`InvalidInputError` (``ValueError``)
``unsupported``      :class:`UnsupportedError`
``interrupted``      ``KeyboardInterrupt``
``internal``         :class:`InternalError`
==================== ===============================================================
"""

from __future__ import annotations

from typing import Optional

__all__ = [
    "ArchiveError",
    "CrateNotFoundError",
    "FetchError",
    "InternalError",
    "InvalidInputError",
    "LimitExceededError",
    "LocalFileNotFoundError",
    "LocalIOError",
    "LocalPermissionError",
    "ProvenanceError",
    "RebuildError",
    "UnsupportedError",
]


class ProvenanceError(Exception):
    """Base class of every error raised by crate_provenance.

    ``str(err)`` is the message (the error and its causes, ``": "``-separated, as the CLI
    prints it).
    """

    #: The stable error-kind name, e.g. ``"invalid_archive"`` (the CLI's JSON ``error.kind``).
    kind: str = "internal"

    def __init__(self, message: str, kind: Optional[str] = None) -> None:
        super().__init__(message)
        if kind is not None:
            self.kind = kind


class LocalIOError(ProvenanceError, OSError):
    """Reading a local file or directory failed (kind ``io``)."""

    kind = "io"


class LocalFileNotFoundError(LocalIOError, FileNotFoundError):
    """A local file, directory or commit named by the caller does not exist (kind ``not_found``)."""

    kind = "not_found"


class LocalPermissionError(LocalIOError, PermissionError):
    """A local file could not be read because of permissions (kind ``permission_denied``)."""

    kind = "permission_denied"


class ArchiveError(ProvenanceError, ValueError):
    """The ``.crate`` is malformed: not a gzip-compressed tar, hostile paths, or unusable
    metadata (kinds ``invalid_archive``, ``invalid_metadata``)."""

    kind = "invalid_archive"


class LimitExceededError(ProvenanceError):
    """A resource limit was exceeded; the message names the limit (kind ``limit_exceeded``)."""

    kind = "limit_exceeded"


class RebuildError(ProvenanceError):
    """Reading the git repository or selecting its files failed (kind ``git``)."""

    kind = "git"


class FetchError(ProvenanceError):
    """Downloading from the registry or fetching the repository failed (kinds ``network``,
    ``checksum_mismatch``, ``url_policy``)."""

    kind = "network"


class CrateNotFoundError(FetchError, LookupError):
    """The registry has no such crate or version (kind ``crate_not_found``)."""

    kind = "crate_not_found"


class InvalidInputError(ProvenanceError, ValueError):
    """The arguments are inconsistent or incomplete (kind ``invalid_input``)."""

    kind = "invalid_input"


class UnsupportedError(ProvenanceError):
    """The operation needs something this build or mode does not provide, e.g. the network
    while ``offline=True`` (kind ``unsupported``)."""

    kind = "unsupported"


class InternalError(ProvenanceError):
    """A bug in crate-provenance: an invariant did not hold or a panic was caught
    (kind ``internal``). Please report it."""

    kind = "internal"
