"""Native part of the ``crate_provenance`` package (Rust, PyO3). Import ``crate_provenance``."""

from collections.abc import Callable, Iterable, Mapping
from os import PathLike
from pathlib import Path
from typing import Any, TypedDict, final

__all__ = [
    "__version__",
    "VERDICTS",
    "verify",
    "inspect",
    "list_files",
    "index_versions",
    "crate_repository",
    "repository_key",
    "scan",
    "Summary",
    "read_targets",
    "summarize",
    "locate_versions",
    "plan_partitions",
    "result_lines",
    "result_key",
    "merge_results",
    "lost_line",
    "Report",
    "Source",
    "FileCounts",
    "Difference",
    "FileDigest",
    "Finding",
    "Assisted",
    "Inspection",
]

__version__: str
"""The package version (equal to the Rust crates' version)."""

VERDICTS: tuple[str, ...]
"""Every verdict name, in precedence order (``"no_repository"`` … ``"match"``)."""

@final
class FileDigest:
    """Size and SHA-256 of one side of a :class:`Difference`."""

    @property
    def size(self) -> int:
        """Size in bytes."""

    @property
    def sha256(self) -> str:
        """Lowercase hex SHA-256 of the bytes."""

@final
class Difference:
    """One file that differs between the ``.crate`` and what cargo would package from the
    repository."""

    @property
    def path(self) -> str:
        """Path relative to the package root, ``/``-separated."""

    @property
    def kind(self) -> str:
        """``"only_in_published"``, ``"only_in_repo"``, ``"content_differs"``,
        ``"symlink_text"`` or ``"in_submodule"``."""

    @property
    def diff(self) -> str | None:
        """A unified diff (``a/`` = repository, ``b/`` = published) for text files, capped in
        size; a one-line description for binary files; ``None`` when there is nothing to show."""

    @property
    def published(self) -> FileDigest | None:
        """The published side, when there is one."""

    @property
    def repo(self) -> FileDigest | None:
        """The repository side, when there is one."""

    @property
    def repo_path(self) -> str | None:
        """The repository path the expected file comes from, when it is not simply
        ``path_in_vcs/path`` (a readme from outside the package, a symlink target, …)."""

    @property
    def category(self) -> str | None:
        """What kind of change this is: ``"whitespace_only"``, ``"line_endings"``,
        ``"version_bump_only"``, ``"generated_file"``, ``"vendored_upstream"``,
        ``"ci_or_meta"``, ``"build_script"``, ``"proc_macro"``, ``"binary"`` or ``"other"``."""

    @property
    def severity(self) -> str | None:
        """How much it matters: ``"info"`` (line endings, whitespace, version bump), ``"low"``
        (CI and meta files, docs, generated or vendored files) or ``"high"`` (build scripts,
        proc-macro code, binaries, other source code and the manifest)."""

@final
class Finding:
    """An observation that does not by itself decide the verdict."""

    @property
    def kind(self) -> str:
        """A stable snake_case identifier, e.g. ``"older_cargo_rule"``."""

    @property
    def severity(self) -> str:
        """``"info"``, ``"low"``, ``"medium"`` or ``"high"``."""

    @property
    def message(self) -> str:
        """A human-readable explanation."""

    @property
    def path(self) -> str | None:
        """The package-relative path concerned, if any."""

@final
class Source:
    """Where the expected files come from."""

    @property
    def repository(self) -> str | None:
        """The repository that was used: the ``repo`` argument, else ``package.repository``."""

    @property
    def fetched_from(self) -> str | None:
        """Where the repository was fetched from when a mirror (``mirrors=``) replaced
        :attr:`repository`; ``None`` otherwise."""

    @property
    def commit(self) -> str | None:
        """The commit (40 lowercase hex digits), when known."""

    @property
    def path_in_vcs(self) -> str | None:
        """The package directory inside the repository (``""`` = root), when known."""

    @property
    def dirty(self) -> bool:
        """``.cargo_vcs_info.json`` said ``"dirty": true``."""

    @property
    def how(self) -> str:
        """How ``commit`` and ``path_in_vcs`` were determined: ``"recorded"``,
        ``"discovered_path"`` or ``"tag"``."""

@final
class FileCounts:
    """File counts of a verification."""

    @property
    def published(self) -> int:
        """Regular-file entries in the ``.crate`` (including the generated ones)."""

    @property
    def compared(self) -> int:
        """Published files compared with the repository (all but the generated ones)."""

    @property
    def equal(self) -> int:
        """Compared files that are byte-equal."""

@final
class Assisted:
    """The assisted search's result for ``no_vcs_info`` / ``revision_not_found``: the best
    candidate commit (a version tag, a commit whose manifest has the version, or the closest
    commit of the history) compared like a recorded commit. Every field of the JSON report's
    ``assisted`` object. It never changes the primary verdict."""

    @property
    def how(self) -> str:
        """``"tag"``, ``"version_commit"`` or ``"closest_commit"``."""

    @property
    def ref(self) -> str:
        """The full ref name that was used, e.g. ``"refs/tags/v1.0.6"`` (the commit id for
        ``version_commit`` and ``closest_commit``)."""

    @property
    def commit(self) -> str:
        """The candidate commit (40 lowercase hex digits)."""

    @property
    def verdict(self) -> str:
        """The verdict the comparison at that commit gives (``"match"`` also when every
        difference is in line endings only, see :attr:`reason`)."""

    @property
    def path_in_vcs(self) -> str:
        """The package directory used at that commit (``""`` = root)."""

    @property
    def files(self) -> FileCounts:
        """File counts at that commit."""

    @property
    def differences(self) -> list[Difference]:
        """The differences at that commit (a new list on every access)."""

    @property
    def summary(self) -> str:
        """One line: how many files differ, by category, and the highest severity."""

    @property
    def findings(self) -> list[Finding]:
        """Findings of the search and of that commit: ``older_cargo_rule``,
        ``crlf_published``, ``assisted_tag_skipped``, ``assisted_incomplete`` (a new list on
        every access)."""

    @property
    def reason(self) -> str:
        """Why this candidate won, one sentence, e.g. ``"exact match"`` or ``"match after line
        endings: …"``."""

    @property
    def tried(self) -> int:
        """How many candidates were evaluated."""

    @property
    def commits_walked(self) -> int:
        """How many commits the history walk looked at."""

    @property
    def complete(self) -> bool:
        """Whether the search finished within its budgets (``False``: see the
        ``assisted_incomplete`` findings)."""

    @property
    def era(self) -> str:
        """The cargo versions that could have made the crate, as inferred from the crate (and
        used for the older-cargo rules)."""

@final
class Report:
    """The result of :func:`verify`. Immutable.

    A mismatch is a report, not an exception: check :attr:`ok` or :attr:`verdict`.
    """

    @property
    def schema_version(self) -> int:
        """The JSON report's ``schema_version`` (1)."""

    @property
    def name(self) -> str:
        """The crate's name."""

    @property
    def version(self) -> str:
        """The crate's version."""

    @property
    def sha256(self) -> str:
        """Lowercase hex SHA-256 of the ``.crate`` file."""

    @property
    def verdict(self) -> str:
        """One of :data:`VERDICTS`, e.g. ``"match"`` or ``"mismatch"``."""

    @property
    def ok(self) -> bool:
        """``verdict == "match"``."""

    @property
    def source(self) -> Source:
        """Where the expected files come from."""

    @property
    def files(self) -> FileCounts:
        """File counts."""

    @property
    def differences(self) -> list[Difference]:
        """Differences, sorted by path then kind (a new list on every access)."""

    @property
    def summary(self) -> str:
        """One line: how many files differ, by category, and the highest severity, e.g.
        ``"3 files differ: 2 ci_or_meta, 1 build_script (high)"``."""

    @property
    def findings(self) -> list[Finding]:
        """Findings, sorted (a new list on every access)."""

    @property
    def assisted(self) -> Assisted | None:
        """The assisted attempt, if one was made."""

    def to_json(self) -> str:
        """The JSON report: exactly the bytes ``crate-provenance verify --format json`` prints,
        without its trailing newline."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON report as plain Python objects (``json.loads(self.to_json())``)."""

def verify(
    name: str | None = None,
    version: str | None = None,
    *,
    crate_file: str | PathLike[str] | None = None,
    repo: str | PathLike[str] | None = None,
    cache_dir: str | PathLike[str] | None = None,
    index_url: str | None = None,
    offline: bool = False,
    allow_insecure_transport: bool = False,
    progress: Callable[[str, int, int | None], object] | None = None,
    mirrors: Mapping[str, str] | None = None,
    cargo_config: str | PathLike[str] | None = None,
) -> Report:
    """Verify that a published ``.crate`` contains exactly what its repository holds.

    Give either ``name`` and ``version`` (downloaded from the registry) or ``crate_file``.

    :param crate_file: a local ``.crate`` file.
    :param repo: the repository: a URL or a local repository path (bare or not); a ``str`` is
        interpreted like the CLI's ``--repo``, any other path-like object as a path. Default:
        ``package.repository`` from the crate.
    :param cache_dir: cache directory for downloads and fetched repositories (relative to the
        current directory if relative; created ``0700``). Empty is an ``InvalidInputError``; a
        directory that is a symlink is refused (``LocalIOError``).
    :param index_url: sparse index URL of the registry (default: crates.io).
    :param cargo_config: a cargo config file whose ``[source.crates-io] replace-with``
        names the registry (a ``sparse+`` registry or a ``local-registry``), as
        ``--cargo-config`` does; with ``index_url`` too: ``invalid_input``.
    :param offline: use only what is cached; never touch the network.
    :param allow_insecure_transport: allow ``http://``, ``git://`` and ``file://`` URLs.
    :param progress: called as ``progress(stage, done, total)`` on the calling thread when a
        stage begins (``done == 0``) and when it ends (``done`` = units completed); ``total``
        is ``None`` when unknown. Stages: ``"read_crate"``, ``"download"``, ``"fetch"``,
        ``"open_repository"``, ``"rebuild"``, ``"compare"``, ``"assisted"``. An exception
        raised by the callback stops the verification and propagates.
    :returns: the report, for every verdict.
    :raises crate_provenance.exceptions.ProvenanceError: when the inputs are unusable (see
        :mod:`crate_provenance.exceptions`).
    :raises KeyboardInterrupt: on Ctrl-C, within about half a second; the verification stops
        at its next check (work blocked in network I/O finishes in the background, its result
        dropped).

    The GIL is released while the verification runs.
    """

class _Declared(TypedDict):
    """:attr:`Inspection.declared`: what the crate says about where it comes from."""

    repository: str | None
    """``package.repository``."""
    commit: str | None
    """``git.sha1`` of a well-formed ``.cargo_vcs_info.json``."""
    path_in_vcs: str | None
    """``path_in_vcs`` of ``.cargo_vcs_info.json``, when recorded (``""`` = repository root)."""
    dirty: bool
    """``git.dirty`` of ``.cargo_vcs_info.json``."""
    vcs_info: bool
    """The archive has a ``.cargo_vcs_info.json`` (well-formed or not)."""

class _InventoryFile(TypedDict):
    """One file worth a reviewer's attention."""

    path: str
    size: int
    reason: str
    """``"native_library"``, ``"executable_binary"``, ``"object_file"``, ``"wasm"``,
    ``"archive"``, ``"binary"`` (in ``binary_files``), ``"executable_bit"``, ``"large"`` or
    ``"generated"``."""

class _DirectorySize(TypedDict):
    """File count and size of a directory (``"."`` = the files at the package root)."""

    path: str
    files: int
    bytes: int

class _Inventory(TypedDict):
    """:attr:`Inspection.inventory`: what a reviewer wants to see first."""

    files: int
    total_bytes: int
    build_script: str | None
    proc_macro: bool
    links: str | None
    binary_files: list[_InventoryFile]
    executable_files: list[_InventoryFile]
    large_files: list[_InventoryFile]
    generated_files: list[_InventoryFile]
    vendored_directories: list[_DirectorySize]
    directories: list[_DirectorySize]

@final
class Inspection:
    """The result of :func:`inspect`: a crate examined alone, without its repository.
    Immutable. There is no verdict: :attr:`findings` holds every crate-intrinsic finding and
    :attr:`has_high` says whether one is ``"high"`` (the CLI then exits 1)."""

    @property
    def schema_version(self) -> int:
        """The JSON document's ``schema_version`` (1)."""

    @property
    def name(self) -> str:
        """The crate's name."""

    @property
    def crate_name(self) -> str:
        """The crate's name (same as :attr:`name`)."""

    @property
    def version(self) -> str:
        """The crate's version."""

    @property
    def sha256(self) -> str:
        """Lowercase hex SHA-256 of the ``.crate`` file."""

    @property
    def findings(self) -> list[Finding]:
        """Crate-intrinsic findings, sorted (a new list on every access)."""

    @property
    def has_high(self) -> bool:
        """Whether a finding is ``"high"``."""

    @property
    def era_min(self) -> str:
        """The oldest cargo that could have made the crate, ``"1.N"``."""

    @property
    def era_max(self) -> str:
        """The newest cargo that could have made the crate, ``"1.N"``."""

    @property
    def era_evidence(self) -> list[str]:
        """The clues behind :attr:`era_min` and :attr:`era_max`, one sentence each (a new list
        on every access)."""

    @property
    def inventory(self) -> _Inventory:
        """Build script, proc-macro, ``links``, binary, executable, large, generated and
        vendored files, sizes per top-level directory: ``to_dict()["inventory"]`` (a new dict on
        every access)."""

    @property
    def declared(self) -> _Declared:
        """Repository, commit, ``path_in_vcs``, ``dirty`` and whether there is a
        ``.cargo_vcs_info.json``: ``to_dict()["declared"]`` (a new dict on every access)."""

    def to_json(self) -> str:
        """The JSON document: exactly the bytes ``crate-provenance inspect --format json``
        prints, without its trailing newline (schema: ``schema/inspect.v1.json``)."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON document as plain Python objects (``json.loads(self.to_json())``)."""

def inspect(
    crate_file: str | PathLike[str] | None = None,
    *,
    name: str | None = None,
    version: str | None = None,
    cache_dir: str | PathLike[str] | None = None,
    offline: bool = False,
    index_url: str | None = None,
    progress: Callable[[str, int, int | None], object] | None = None,
    mirrors: Mapping[str, str] | None = None,
    cargo_config: str | PathLike[str] | None = None,
) -> Inspection:
    """Inspect a crate alone, without its repository: archive anomalies,
    ``.cargo_vcs_info.json``, the normalized manifest and ``Cargo.lock`` checks, suspicious code
    points, the cargo versions that could have made it, and an inventory. Like
    ``crate-provenance inspect``.

    Give exactly one of ``crate_file`` or ``name`` and ``version`` (downloaded from the
    registry and checked against the index checksum), else ``InvalidInputError``.

    :param cache_dir: cache directory for downloads, as for :func:`verify`.
    :param offline: use only what is cached; never touch the network.
    :param index_url: sparse index URL of the registry (default: crates.io).
    :param cargo_config: a cargo config file whose ``[source.crates-io] replace-with``
        names the registry (a ``sparse+`` registry or a ``local-registry``), as
        ``--cargo-config`` does; with ``index_url`` too: ``invalid_input``.
    :param progress: as for :func:`verify`; the stages are ``"download"`` and
        ``"read_crate"``.
    :returns: the inspection, whatever it finds (a ``"high"`` finding is data, not an
        exception).
    :raises crate_provenance.exceptions.ProvenanceError: when the crate cannot be read (see
        :mod:`crate_provenance.exceptions`).
    :raises KeyboardInterrupt: on Ctrl-C, as for :func:`verify`.

    The GIL is released while the inspection runs.
    """

def list_files(repo: str | PathLike[str], commit: str, path: str = "") -> list[str]:
    """The files ``cargo package`` would put into the archive for the package at ``path``
    (``""`` = repository root) in ``commit`` of the local repository ``repo``, like
    ``cargo package --list`` but read from the commit. Generated files (``Cargo.toml``,
    ``Cargo.lock``, ``.cargo_vcs_info.json``) are included, as cargo lists them.

    :param commit: the full commit id.
    :raises crate_provenance.exceptions.LocalFileNotFoundError: the commit does not exist.
    :raises crate_provenance.exceptions.InvalidInputError: ``commit`` is not a full commit id.
    """

def index_versions(
    name: str,
    *,
    index_url: str | None = None,
    cache_dir: str | PathLike[str] | None = None,
    offline: bool = False,
    allow_insecure_transport: bool = False,
) -> list[tuple[str, bool]]:
    """Every version of ``name`` in the registry index, in index order, as
    ``(version, yanked)`` (yanked versions included). Offline, the cached index file is used.

    :raises crate_provenance.exceptions.CrateNotFoundError: the index has no such crate.
    :raises crate_provenance.exceptions.FetchError: the index cannot be read.
    """

def crate_repository(
    name: str,
    version: str,
    *,
    index_url: str | None = None,
    cache_dir: str | PathLike[str] | None = None,
    offline: bool = False,
    allow_insecure_transport: bool = False,
) -> str | None:
    """The ``package.repository`` declared by ``name@version``, or ``None``. The ``.crate`` is
    downloaded (checked against the index checksum) into ``cache_dir``, where a later
    :func:`verify` of the same version finds it.

    :raises crate_provenance.exceptions.ProvenanceError: download or archive errors, as
        :func:`verify` raises them.
    """

def repository_key(url: str, *, allow_insecure_transport: bool = False) -> str:
    """The identity of a repository URL after normalization (scheme, lowercase host, port,
    path without ``.git``), the key under which the cache keeps its clone: two spellings of
    one repository give the same key.

    :raises crate_provenance.exceptions.FetchError: the URL is refused by the transport policy
        (``kind == "url_policy"``).
    """

@final
class Summary:
    """What :func:`scan` did: the summary ``crate-provenance scan --format json`` prints, and
    the run."""

    @property
    def total(self) -> int:
        """Crate versions with a result line (this run's and the results file's)."""

    @property
    def counts(self) -> dict[str, int]:
        """Lines per verdict (every verdict, ``"match"`` first) and ``"error"``."""

    @property
    def not_match(self) -> list[str]:
        """``NAME@VERSION`` of the results that are not ``match``, in result order."""

    @property
    def denied(self) -> list[str]:
        """``NAME@VERSION`` of the results the gate denies (no exemption applies)."""

    @property
    def skipped(self) -> list[tuple[str, str, str]]:
        """``(name, version, reason)`` of the packages the inputs name but that were not
        verified (git and path packages, other registries, …)."""

    @property
    def deny(self) -> list[str]:
        """The denied verdicts (and ``"error"``)."""

    @property
    def unused_exemptions(self) -> list[str]:
        """Exemptions of the policy file that matched no result."""

    @property
    def gate_failed(self) -> bool:
        """Some result has a denied verdict and no exemption."""

    @property
    def ok(self) -> bool:
        """The gate passes (``not gate_failed``)."""

    @property
    def verified(self) -> int:
        """Crate versions verified (or failed) in this run."""

    @property
    def already(self) -> int:
        """Crate versions the results file already had (not verified again)."""

    @property
    def elapsed(self) -> float:
        """Seconds the verifications took."""

    @property
    def results(self) -> Path | None:
        """The results file (``out``), if one was given."""

    def to_json(self) -> str:
        """The summary exactly as ``crate-provenance scan --format json`` prints it."""

    def to_markdown(self) -> str:
        """The summary as ``crate-provenance scan --format markdown`` prints it."""

    def to_text(self) -> str:
        """The summary as ``crate-provenance scan`` prints it (``--format human``)."""

def scan(
    targets: str | PathLike[str] | Iterable[str | tuple[str, str]] | None = None,
    *,
    out: str | PathLike[str] | None = None,
    lockfile: Iterable[str | PathLike[str]] = ...,
    sbom: Iterable[str | PathLike[str]] = ...,
    all_versions: Iterable[str] = ...,
    jobs: int = 1,
    deny: Iterable[str] | None = None,
    policy: str | PathLike[str] | None = None,
    retry_errors: bool = False,
    timeout: int = 600,
    cache_dir: str | PathLike[str] | None = None,
    index_url: str | None = None,
    offline: bool = False,
    allow_insecure_transport: bool = False,
    assisted: bool = True,
    journal: str | PathLike[str] | None = None,
    max_starts: int = 2,
    before_verify: Callable[[str, str], object] | None = None,
    mirrors: Mapping[str, str] | None = None,
    cargo_config: str | PathLike[str] | None = None,
) -> Summary:
    """Verify many crate versions with the batch engine of ``crate-provenance scan``, writing
    the same results file (JSON Lines, one line per crate version, append-only and resumable)
    and returning the same summary.

    Verification runs in this process, in ``jobs`` threads (the GIL is released); the worker
    processes with resource limits of ``crate-provenance scan`` are the command line's. A
    crate that cannot be verified is an error line, never an exception; a repository that
    cannot be reached is the verdict ``repository_not_found`` with a ``repository_unreachable``
    finding, as in ``crate-provenance scan``.

    :param targets: a list file (``NAME@VERSION`` per line, ``#`` comments: ``--list``), or an
        iterable of ``"NAME@VERSION"`` strings or ``(name, version)`` pairs.
    :param out: the results file (``--out``): versions it already has are not verified again.
    :param lockfile: ``Cargo.lock`` files (``--lockfile``); git and path packages are skipped.
    :param sbom: CycloneDX or SPDX JSON SBOMs (``--sbom``).
    :param all_versions: crates whose every index version is verified (``--all-versions``).
    :param jobs: parallel verifications (``--jobs``).
    :param deny: verdicts (or ``"error"``) that fail the gate (``--deny``); replaces the policy
        file's ``gate.deny``.
    :param policy: a ``provenance.toml`` (``--policy``). Unlike the command line, no default
        file is looked for.
    :param retry_errors: verify error lines of ``out`` again (``--retry-errors``).
    :param timeout: seconds per crate version (``--timeout``), then a ``limit_exceeded`` line.
    :param cache_dir: cache of downloads and repositories, shared by the jobs (``--cache-dir``).
    :param index_url: sparse index URL of the registry (``--index-url``).
    :param cargo_config: a cargo config file whose ``[source.crates-io] replace-with``
        names the registry (a ``sparse+`` registry or a ``local-registry``), as
        ``--cargo-config`` does; with ``index_url`` too: ``invalid_input``.
    :param offline: use only what is cached (``--offline``).
    :param allow_insecure_transport: allow ``http://``, ``git://``, ``file://`` and loopback.
    :param assisted: try version tags for ``no_vcs_info`` / ``revision_not_found``
        (``--no-assisted`` is ``assisted=False``).
    :param journal: a crash journal for processes that may be killed (distributed workers):
        every start is appended to it before the verification; a version with ``max_starts``
        starts and no result is recorded as an ``internal`` error and not verified again.
    :param max_starts: see ``journal``.
    :param before_verify: called as ``before_verify(name, version)`` in the verifying thread
        right before each verification (after the journal recorded it); an exception stops the
        scan and propagates.
    :raises crate_provenance.exceptions.InvalidInputError: unreadable inputs or policy, an
        unknown verdict in ``deny``.
    :raises crate_provenance.exceptions.LocalIOError: the results file cannot be read or
        written.
    :raises KeyboardInterrupt: on Ctrl-C; versions in flight are not recorded, and the same call
        resumes.
    """

def read_targets(
    targets: str | PathLike[str] | Iterable[str | tuple[str, str]] | None = None,
    *,
    lockfile: Iterable[str | PathLike[str]] = ...,
    sbom: Iterable[str | PathLike[str]] = ...,
    index_url: str | None = None,
) -> tuple[list[tuple[str, str]], list[tuple[str, str, str]]]:
    """The crate versions the inputs of :func:`scan` name, ``(name, version)`` without
    duplicates in the command line's order, and the skipped packages ``(name, version,
    reason)``.

    :raises crate_provenance.exceptions.InvalidInputError: an unreadable input, or a target
        that is not ``NAME@VERSION``.
    """

def summarize(
    results: str | PathLike[str] | None = None,
    *,
    deny: Iterable[str] | None = None,
    policy: str | PathLike[str] | None = None,
) -> Summary:
    """The summary of a results file, as ``crate-provenance report --format json`` prints it
    (``None``: no results, which still checks ``deny`` and ``policy``).

    :raises crate_provenance.exceptions.InvalidInputError: an unknown verdict in ``deny``, an
        invalid policy file.
    :raises crate_provenance.exceptions.LocalIOError: the results file cannot be read.
    """

def locate_versions(
    specs: list[tuple[str, str]],
    names: list[str] = ...,
    *,
    latest_only: bool = False,
    include_yanked: bool = False,
    skip: list[str] = ...,
    cache_dir: str | PathLike[str] | None = None,
    index_url: str | None = None,
    offline: bool = False,
    allow_insecure_transport: bool = False,
) -> list[tuple[str, str, str | None, str | None]]:
    """For :mod:`crate_provenance.distributed`: the partition key (normalized repository) of
    every version to verify, ``(name, version, key, None)``. ``names`` are expanded from the
    index (all versions or the latest; yanked ones only with ``include_yanked``) without the
    ``NAME@VERSION`` in ``skip``; a name whose index cannot be read is ``(name, "*", None,
    line)`` with its error line."""

def plan_partitions(located: list[tuple[str, str, str]], size: int) -> list[list[tuple[str, str]]]:
    """For :mod:`crate_provenance.distributed`: whole repositories packed into partitions of up
    to ``size`` versions (a bigger repository is cut into pieces), from ``(name, version,
    key)``."""

def result_lines(path: str | PathLike[str]) -> list[str]:
    """The complete lines of a results file (a torn last line is left out); ``[]`` when the file
    does not exist."""

def result_key(line: str) -> str | None:
    """``NAME@VERSION`` of a results line, or ``None`` when it is not one."""

def merge_results(sources: list[str | PathLike[str]], dest: str | PathLike[str]) -> int:
    """Write ``dest`` (atomically): one line per crate version of ``sources``, a later file's
    line winning, sorted by ``NAME@VERSION``. Returns the number of lines."""

def lost_line(name: str, version: str, starts: int | None = None) -> str:
    """The ``internal`` error line of a version whose verification took its process down
    (``starts`` times, or once as seen by a scheduler)."""
