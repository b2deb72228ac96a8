"""The captures' MANIFEST: what each bundled file is, and proof it is unchanged.

Consumes ``captures/MANIFEST``, a TOML file written by ``captures/record.py``
and read here with the stdlib :mod:`tomllib`; produces a frozen
:class:`Manifest` of :class:`ManifestEntry` values (path, SHA-256, size,
kind, description and, for captures, the :class:`CaptureClaims`: TLS
versions, cipher suite, group, SNI, number of connections, key files).
:func:`verify_file` checks a file against the manifest next to it (or the
nearest one above it) and raises :class:`~tlsdoc.errors.CaptureError`,
naming the file, when it is not listed or its size or SHA-256 differ, so
the build refuses a capture that is not the one the chapters describe.

The format, one ``[[file]]`` table per file, paths relative to the
manifest::

    format = 1

    [[file]]
    path = "tls13.pcapng"
    kind = "capture"            # capture | keylog | certificate | private-key
    sha256 = "<64 hex digits>"
    size = 6168
    description = "TLS 1.3 full handshake ..."
    scenario = "tls13"          # the rest only for kind = "capture"
    frames = 19
    connections = 1
    tls_versions = ["TLS 1.3"]
    cipher_suite = "TLS_AES_128_GCM_SHA256"
    group = "x25519"
    sni = "www.example.com"
    alpn = "http/1.1"
    hello_retry_request = false
    resumption = false
    keylog = "tls13.keys"
    rsa_key = "pki/..."         # only where the server key alone decrypts
    http_status = 200

Unknown top-level tables and unknown per-file keys are allowed (kept in
``extra``) so that a newer manifest still loads.

Pure stdlib (hashlib, tomllib).  Must never import any tlsdoc module but
:mod:`tlsdoc.errors`, nor dpkt, cryptography or sphinx.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any, Iterator, Mapping

from tlsdoc.errors import CaptureError

__all__ = [
    "MANIFEST_NAME",
    "KINDS",
    "CaptureClaims",
    "ManifestEntry",
    "Manifest",
    "load_manifest",
    "find_manifest",
    "sha256_file",
    "verify_file",
]

MANIFEST_NAME = "MANIFEST"
"""File name of the manifest, looked for next to a file and in its parents."""

KINDS = frozenset({"capture", "keylog", "certificate", "private-key"})
"""Values allowed for ``kind``."""

SUPPORTED_FORMAT = 1
_SHA256 = re.compile(r"[0-9a-f]{64}")
_ENTRY_KEYS = {"path", "kind", "sha256", "size", "description"}
_CLAIM_KEYS = {
    "scenario", "frames", "connections", "tls_versions", "cipher_suite", "group", "sni",
    "alpn", "hello_retry_request", "resumption", "keylog", "rsa_key", "http_status",
}


@dataclass(frozen=True)
class CaptureClaims:
    """What a capture demonstrates, as the manifest states it (checked by the tests)."""

    scenario: str
    frames: int
    connections: int
    tls_versions: tuple[str, ...] = ()
    cipher_suite: str | None = None
    group: str | None = None
    sni: str | None = None
    alpn: str | None = None
    hello_retry_request: bool = False
    resumption: bool = False
    keylog: str | None = None
    """Key log that decrypts it, relative to the manifest (None: no TLS)."""
    rsa_key: str | None = None
    """Server private key that decrypts it *by itself* (TLS 1.2 RSA key exchange only)."""
    http_status: int | None = None


@dataclass(frozen=True)
class ManifestEntry:
    """One ``[[file]]`` table."""

    path: str
    """POSIX path relative to the manifest's directory."""
    kind: str
    sha256: str
    size: int
    description: str
    claims: CaptureClaims | None = None
    """Set for ``kind == "capture"``, None otherwise."""
    extra: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    """Keys this version does not know (e.g. ``capture`` on a key log)."""


@dataclass(frozen=True)
class Manifest:
    """A loaded manifest: its location, top-level settings, and entries in file order."""

    path: Path
    entries: tuple[ManifestEntry, ...]
    settings: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    """Every top-level key and table except ``file`` (e.g. ``recorded_with``)."""

    @property
    def root(self) -> Path:
        """The directory the entries' paths are relative to."""
        return self.path.parent

    def __iter__(self) -> Iterator[ManifestEntry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, relpath: str) -> ManifestEntry | None:
        """The entry for *relpath* (POSIX, relative to :attr:`root`), or None."""
        for entry in self.entries:
            if entry.path == relpath:
                return entry
        return None

    def captures(self) -> tuple[ManifestEntry, ...]:
        """The entries of kind ``capture``, in file order."""
        return tuple(e for e in self.entries if e.kind == "capture")

    def resolve(self, entry: ManifestEntry | str) -> Path:
        """Absolute path of an entry (or of a path relative to the manifest)."""
        rel = entry.path if isinstance(entry, ManifestEntry) else entry
        return self.root / PurePosixPath(rel)


def _fail(path: Path, message: str, *, field: str | None = None, expected=None,
          found=None) -> CaptureError:
    return CaptureError(message, capture=str(path), field=field, expected=expected, found=found)


def _typed(where: Path, table: Mapping[str, Any], key: str, kind: type | tuple[type, ...],
           label: str, *, required: bool = True, default: Any = None) -> Any:
    if key not in table:
        if required:
            raise _fail(where, f"{label}: missing key {key!r}", field=key)
        return default
    value = table[key]
    # bool is an int in Python; never accept one for the other.
    if isinstance(value, bool) != (kind is bool) or not isinstance(value, kind):
        raise _fail(where, f"{label}: wrong type for {key!r}", field=key,
                    expected=getattr(kind, "__name__", kind), found=repr(value))
    return value


def _check_relpath(where: Path, label: str, key: str, value: str) -> str:
    pure = PurePosixPath(value)
    if not value or pure.is_absolute() or ".." in pure.parts or "\\" in value:
        raise _fail(where, f"{label}: {key} must be a relative path inside the captures "
                    "directory", field=key, found=repr(value))
    return pure.as_posix()


def _claims(where: Path, table: Mapping[str, Any], label: str) -> CaptureClaims:
    def opt_str(key: str) -> str | None:
        value = _typed(where, table, key, str, label, required=False)
        return value

    versions = _typed(where, table, "tls_versions", list, label, required=False, default=[])
    if not all(isinstance(v, str) for v in versions):
        raise _fail(where, f"{label}: tls_versions must be a list of strings",
                    field="tls_versions", found=repr(versions))
    keylog = opt_str("keylog")
    rsa_key = opt_str("rsa_key")
    return CaptureClaims(
        scenario=_typed(where, table, "scenario", str, label),
        frames=_typed(where, table, "frames", int, label),
        connections=_typed(where, table, "connections", int, label),
        tls_versions=tuple(versions),
        cipher_suite=opt_str("cipher_suite"),
        group=opt_str("group"),
        sni=opt_str("sni"),
        alpn=opt_str("alpn"),
        hello_retry_request=_typed(where, table, "hello_retry_request", bool, label,
                                   required=False, default=False),
        resumption=_typed(where, table, "resumption", bool, label, required=False,
                          default=False),
        keylog=_check_relpath(where, label, "keylog", keylog) if keylog else None,
        rsa_key=_check_relpath(where, label, "rsa_key", rsa_key) if rsa_key else None,
        http_status=_typed(where, table, "http_status", int, label, required=False),
    )


def _entry(where: Path, index: int, table: Any) -> ManifestEntry:
    label = f"[[file]] #{index + 1}"
    if not isinstance(table, dict):
        raise _fail(where, f"{label}: not a table")
    path = _check_relpath(where, label, "path", _typed(where, table, "path", str, label))
    label = f"{label} ({path})"
    kind = _typed(where, table, "kind", str, label)
    if kind not in KINDS:
        raise _fail(where, f"{label}: unknown kind", field="kind",
                    expected=" | ".join(sorted(KINDS)), found=repr(kind))
    digest = _typed(where, table, "sha256", str, label).lower()
    if not _SHA256.fullmatch(digest):
        raise _fail(where, f"{label}: sha256 is not 64 hex digits", field="sha256",
                    found=repr(table["sha256"]))
    size = _typed(where, table, "size", int, label)
    if size < 0:
        raise _fail(where, f"{label}: negative size", field="size", found=size)
    known = _ENTRY_KEYS | (_CLAIM_KEYS if kind == "capture" else set())
    return ManifestEntry(
        path=path,
        kind=kind,
        sha256=digest,
        size=size,
        description=_typed(where, table, "description", str, label, required=False,
                           default=""),
        claims=_claims(where, table, label) if kind == "capture" else None,
        extra=MappingProxyType({k: v for k, v in table.items() if k not in known}),
    )


def load_manifest(path: str | Path) -> Manifest:
    """Read and check a MANIFEST file.

    Raises :class:`CaptureError` (naming the manifest) when it cannot be read,
    is not TOML, has an unsupported ``format``, or an entry is malformed or
    listed twice.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _fail(path, f"cannot read the manifest ({exc.strerror or exc})") from None
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise _fail(path, f"not a valid TOML manifest ({exc})") from None
    fmt = doc.get("format")
    if fmt != SUPPORTED_FORMAT:
        raise _fail(path, "unsupported manifest format", field="format",
                    expected=SUPPORTED_FORMAT, found=repr(fmt))
    tables = doc.get("file", [])
    if not isinstance(tables, list):
        raise _fail(path, "'file' must be an array of tables ([[file]])", field="file")
    entries = tuple(_entry(path, i, t) for i, t in enumerate(tables))
    seen: set[str] = set()
    for entry in entries:
        if entry.path in seen:
            raise _fail(path, f"{entry.path} is listed twice", field="path")
        seen.add(entry.path)
    settings = MappingProxyType({k: v for k, v in doc.items() if k != "file"})
    return Manifest(path=path.resolve(), entries=entries, settings=settings)


def find_manifest(path: str | Path) -> Path | None:
    """The MANIFEST that governs *path*: in its directory or the nearest parent."""
    start = Path(path).resolve().parent
    for directory in (start, *start.parents):
        candidate = directory / MANIFEST_NAME
        if candidate.is_file():
            return candidate
    return None


def sha256_file(path: str | Path, chunk: int = 1 << 16) -> tuple[str, int]:
    """Return (hex SHA-256, size in bytes) of a file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def verify_file(path: str | Path, manifest: Manifest | None = None) -> ManifestEntry:
    """Check *path* against its manifest entry; return the entry when it matches.

    *manifest* defaults to the MANIFEST next to the file or in the nearest
    parent directory.  Raises :class:`CaptureError` naming the file when the
    file is missing or unreadable, no manifest governs it, it is not listed,
    or its size or SHA-256 differ from the manifest's.
    """
    path = Path(path)
    name = str(path)
    if manifest is None:
        manifest_path = find_manifest(path)
        if manifest_path is None:
            raise CaptureError(f"no {MANIFEST_NAME} found next to it or above it",
                               capture=name)
        manifest = load_manifest(manifest_path)
    try:
        rel = path.resolve().relative_to(manifest.root).as_posix()
    except ValueError:
        raise CaptureError(f"outside the directory of {manifest.path}",
                           capture=name) from None
    entry = manifest.get(rel)
    if entry is None:
        raise CaptureError(f"not listed in {manifest.path}", capture=name)
    try:
        digest, size = sha256_file(path)
    except OSError as exc:
        raise CaptureError(f"cannot read it ({exc.strerror or exc})",
                           capture=name) from None
    if size != entry.size:
        raise CaptureError(f"size does not match {manifest.path}",
                           capture=name, field="size", expected=entry.size, found=size)
    if digest != entry.sha256:
        raise CaptureError(f"SHA-256 does not match {manifest.path}",
                           capture=name, field="sha256", expected=entry.sha256, found=digest)
    return entry
