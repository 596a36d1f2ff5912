"""Importing Backstage catalog files sent over the network: YAML, or a repository as an archive.

The API and the web page receive bytes, not paths. A YAML body is one catalog file (several
documents allowed); a zip or tar archive (gzip-compressed or not: what GitHub and GitLab hand out
as a repository download) is unpacked into a private temporary folder and imported like a folder
given to the CLI, so a repository's layout (nested ``catalog-info.yaml`` files, Templates and
their skeletons) is read the same way everywhere. Only the YAML files of an archive are unpacked,
never outside the folder, within the limits below.
"""

from __future__ import annotations

import io
import lzma
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from steward.auth.actor import Actor
from steward.catalog.backstage_files import IGNORED_FOLDERS, YAML_SUFFIXES
from steward.catalog.use_cases.backstage_import import ImportReport, import_catalog
from steward.db import Database
from steward.errors import ValidationError

MAX_YAML_FILES = 20_000
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_TOTAL_BYTES = 200 * 1024 * 1024  # unpacked YAML, whatever the archive's compression
MAX_SCANNED_BYTES = 4 * 1024 ** 3  # every member of a tar, read through to find the YAML
MAX_UPLOAD_BYTES = 100 * 1024 * 1024  # the request body (see steward.api.limits)


@dataclass(frozen=True)
class Upload:
    """One uploaded file: its name (shown in the report) and its bytes."""

    name: str
    data: bytes


def archive_kind(data: bytes) -> str | None:
    """``zip`` or ``tar`` (gzip-compressed or not) by the bytes themselves, else None (YAML)."""
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        return "zip"
    if data.startswith((b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00")) or data[257:262] == b"ustar":
        return "tar"
    return None


def import_uploads(db: Database, actor: Actor, uploads: Sequence[Upload], *,
                   skip_invalid: bool = False) -> ImportReport:
    """Import uploaded YAML files and archives together, as one catalog.

    Files are named in the report by their upload name (``catalog-info.yaml``), and an archive's
    files by their path inside it, under the archive's name when several files are uploaded.
    """
    actor.require_admin("import catalog files")
    if not uploads or not any(u.data.strip() for u in uploads):
        raise ValidationError("body: send Backstage catalog YAML, or a zip or tar.gz archive "
                              "of a repository", field="body")
    with tempfile.TemporaryDirectory(prefix="steward-catalog-") as tmp:
        root = Path(tmp)
        taken: set[str] = set()
        paths: list[Path] = []
        for index, upload in enumerate(uploads):
            name = _unique(_safe_name(upload.name, index), taken)
            kind = archive_kind(upload.data)
            if kind is None:  # a catalog file, read as one even if its name is not *.yaml
                paths.append(root / name)
                paths[-1].write_bytes(upload.data)
            else:
                paths.append(root if len(uploads) == 1 else root / name)
                _unpack(upload, kind, paths[-1])
        return import_catalog(db, actor, paths, skip_invalid=skip_invalid, relative_to=root)


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate.lower() in taken:
        candidate, n = f"{n}-{name}", n + 1
    taken.add(candidate.lower())
    return candidate


def _unpack(upload: Upload, kind: str, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    total = count = 0
    for member_path, data in _members(upload, kind):
        count += 1
        if count > MAX_YAML_FILES:
            raise ValidationError(f"body: {upload.name} holds more than {MAX_YAML_FILES:,} "
                                  "YAML files", field="body")
        total += len(data)
        if total > MAX_TOTAL_BYTES:
            raise ValidationError(f"body: the YAML files of {upload.name} are larger than "
                                  f"{MAX_TOTAL_BYTES // (1024 * 1024)} MB unpacked", field="body")
        target = folder.joinpath(*member_path.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def _members(upload: Upload, kind: str) -> Iterator[tuple[PurePosixPath, bytes]]:
    """The archive's YAML files, path and content; a damaged archive is the sender's error."""
    scanned = 0
    try:
        if kind == "zip":
            with zipfile.ZipFile(io.BytesIO(upload.data)) as archive:
                for info in archive.infolist():
                    path = _member_path(info.filename)
                    if path is not None and not info.is_dir() and info.file_size <= MAX_FILE_BYTES:
                        yield path, archive.read(info)
            return
        with tarfile.open(fileobj=io.BytesIO(upload.data), mode="r:*") as tar:
            for member in tar:
                scanned += member.size
                if scanned > MAX_SCANNED_BYTES:
                    raise ValidationError(f"body: {upload.name} is larger than "
                                          f"{MAX_SCANNED_BYTES // 1024 ** 3} GB unpacked",
                                          field="body")
                path = _member_path(member.name)
                if path is not None and member.isfile() and member.size <= MAX_FILE_BYTES:
                    yield path, _read_tar(tar, member)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError, zlib.error,
            lzma.LZMAError, NotImplementedError, RuntimeError) as exc:
        # RuntimeError: an encrypted zip; NotImplementedError: a compression zipfile lacks
        raise ValidationError(f"body: {upload.name} is not a readable {kind} archive: {exc}",
                              field="body") from exc


def _read_tar(archive: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    handle = archive.extractfile(member)
    return handle.read() if handle is not None else b""


def _member_path(name: str) -> PurePosixPath | None:
    """The member's path when it is a YAML file safely inside the archive, else None."""
    path = PurePosixPath(name.replace("\\", "/"))
    parts = [p for p in path.parts if p not in ("", ".")]
    if not parts or path.is_absolute() or ".." in parts or ":" in parts[0]:
        return None
    if any(p in IGNORED_FOLDERS for p in parts[:-1]) or not parts[-1].lower().endswith(
            YAML_SUFFIXES):
        return None
    return PurePosixPath(*parts)


def _safe_name(name: str, index: int) -> str:
    base = PurePosixPath(name.replace("\\", "/")).name.strip()
    cleaned = "".join(c if c.isalnum() or c in "._-" else "_" for c in base).strip("._")
    return cleaned[:100] or f"upload-{index + 1}"
