"""A model registry in a local directory: the :class:`~crucible.train.ports.HubClient` port
without a server.

Everything is stored in one :class:`LocalBlobStore` under ``root``:

* ``sha256/<hex>`` — file contents, content-addressed, so revisions that share a file
  (a tokenizer, an unchanged config) store it once;
* ``sha256/<hex>`` — the revision manifests too (JSON), so a manifest cannot be altered
  without its reference no longer matching;
* ``repos/<repo_id>/refs/<revision>`` — the content key of that revision's manifest.

A manifest lists every file (relative path, SHA-256, size), the push order, and a
:class:`crucible.ir.ModelVersion` that describes the revision: validated IR, with one
:class:`~crucible.ir.ModelArtifact` per file when the caller gave none. :meth:`pull`
re-hashes every byte it copies out and raises :class:`IntegrityError` on any mismatch.
Revisions are immutable: pushing the same files under an existing revision is a no-op,
pushing different ones is an error. Symbolic links in a pushed directory are skipped.
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from pathlib import Path

import msgspec

from crucible.errors import (
    IntegrityError,
    InvalidArgumentError,
    NotFoundError,
    SerializationError,
    ValidationError,
)
from crucible.ir import ModelArtifact, ModelVersion, fingerprint, validate
from crucible.ir.enums import ArtifactKind
from crucible.train.adapters.blob_addressing import content_key, validate_relative_path
from crucible.train.adapters.blob_local import LocalBlobStore

__all__ = ["HubManifest", "LocalHubClient", "ManifestFile"]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]{0,95}")


class ManifestFile(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    path: str
    sha256: str
    size: int


class HubManifest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    repo_id: str
    revision: str
    sequence: int
    pushed_at: datetime
    tree_sha256: str
    files: list[ManifestFile]
    model_version: ModelVersion


def _check_repo_id(repo_id: str) -> str:
    parts = repo_id.split("/") if isinstance(repo_id, str) else []
    if not 1 <= len(parts) <= 2 or not all(_NAME.fullmatch(p) for p in parts):
        raise InvalidArgumentError(
            f"bad repo id {repo_id!r}: use 'name' or 'owner/name' (letters, digits, . _ -)"
        )
    return repo_id


def _check_revision(revision: str) -> str:
    if not isinstance(revision, str) or not _NAME.fullmatch(revision):
        raise InvalidArgumentError(
            f"bad revision {revision!r}: letters, digits, . _ - (starting with a letter or digit)"
        )
    return revision


def _tree_digest(files: list[ManifestFile]) -> str:
    return fingerprint([[f.path, f.sha256, f.size] for f in files])


def _artifact_kind(path: str) -> ArtifactKind:
    name = path.rsplit("/", 1)[-1].lower()
    if name.startswith("tokenizer") or name in ("vocab.txt", "merges.txt"):
        return ArtifactKind.TOKENIZER
    if name.endswith((".safetensors", ".bin", ".npz", ".npy", ".pt", ".gguf", ".onnx")):
        return ArtifactKind.WEIGHTS
    if name.endswith((".json", ".yaml", ".yml", ".toml")):
        return ArtifactKind.CONFIG
    return ArtifactKind.OTHER


class LocalHubClient:
    def __init__(self, root: str | Path) -> None:
        self.store = LocalBlobStore(root)

    def _ref_key(self, repo_id: str, revision: str) -> str:
        return f"repos/{repo_id}/refs/{revision}"

    def _manifests(self, repo_id: str) -> list[HubManifest]:
        prefix = f"repos/{_check_repo_id(repo_id)}/refs/"
        keys = [k for k in self.store.list(prefix) if "/" not in k[len(prefix) :]]
        manifests = [self._manifest(key) for key in keys]
        return sorted(manifests, key=lambda m: m.sequence)

    def _manifest(self, ref_key: str) -> HubManifest:
        target = self.store.get(ref_key).decode("ascii", "replace").strip()
        if not target.startswith("sha256/"):
            raise IntegrityError(f"{ref_key} does not name a manifest ({target[:80]!r})")
        try:
            manifest = msgspec.json.decode(self.store.get(target), type=HubManifest)
        except msgspec.DecodeError as exc:
            raise SerializationError(
                f"manifest {target} of {ref_key} is unreadable: {exc}"
            ) from None
        if _tree_digest(manifest.files) != manifest.tree_sha256:
            raise IntegrityError(f"manifest {target} of {ref_key} lists a different tree")
        return manifest

    def list_revisions(self, repo_id: str) -> list[str]:
        """Revisions in push order, oldest first; ``[]`` for a repo never pushed."""
        return [m.revision for m in self._manifests(repo_id)]

    def model_version(self, repo_id: str, revision: str | None = None) -> ModelVersion:
        return self._resolve(repo_id, revision).model_version

    def _resolve(self, repo_id: str, revision: str | None) -> HubManifest:
        if revision is None:
            manifests = self._manifests(repo_id)
            if not manifests:
                raise NotFoundError(f"no revision of {repo_id!r} in {self.store.root}")
            return manifests[-1]
        key = self._ref_key(_check_repo_id(repo_id), _check_revision(revision))
        if not self.store.exists(key):
            raise NotFoundError(f"no revision {revision!r} of {repo_id!r} in {self.store.root}")
        return self._manifest(key)

    def push(
        self,
        local_dir: Path,
        repo_id: str,
        *,
        revision: str | None = None,
        model_version: ModelVersion | None = None,
    ) -> str:
        """Store every regular file under ``local_dir`` as a new revision (by default
        ``v<n>``, ``n`` counting pushes) and return the revision."""
        _check_repo_id(repo_id)
        source = Path(local_dir)
        if not source.is_dir():
            raise NotFoundError(f"no model directory {str(source)!r} to push")
        files = []
        for path in sorted(p for p in source.rglob("*") if p.is_file() and not p.is_symlink()):
            rel = validate_relative_path(path.relative_to(source).as_posix())
            data = path.read_bytes()
            files.append(ManifestFile(path=rel, sha256=content_key(data)[7:], size=len(data)))
            self.store.put_content(data)
        if not files:
            raise InvalidArgumentError(f"{str(source)!r} holds no files to push")
        existing = self._manifests(repo_id)
        sequence = existing[-1].sequence + 1 if existing else 1
        revision = _check_revision(revision or f"v{sequence}")
        tree = _tree_digest(files)
        for old in existing:
            if old.revision == revision:
                if old.tree_sha256 == tree:
                    return revision
                raise InvalidArgumentError(
                    f"revision {revision!r} of {repo_id!r} exists with other files: "
                    "revisions are immutable, push under a new one"
                )
        version = self._describe(model_version, repo_id, revision, sequence, files)
        manifest = HubManifest(
            repo_id=repo_id,
            revision=revision,
            sequence=sequence,
            pushed_at=datetime.now(timezone.utc),
            tree_sha256=tree,
            files=files,
            model_version=version,
        )
        manifest_key = self.store.put_content(msgspec.json.encode(manifest))
        self.store.put(self._ref_key(repo_id, revision), manifest_key.encode("ascii"))
        return revision

    def _describe(
        self,
        given: ModelVersion | None,
        repo_id: str,
        revision: str,
        sequence: int,
        files: list[ManifestFile],
    ) -> ModelVersion:
        """The caller's ModelVersion (or a minimal one) with this revision's artifacts and
        location filled in where it left them out; invalid IR raises ValidationError."""
        artifacts = [
            ModelArtifact(
                uri=f.path, kind=_artifact_kind(f.path), size_bytes=f.size, sha256=f.sha256
            )
            for f in files
        ]
        uri = f"{self.store.root.as_uri()}/repos/{repo_id}/refs/{revision}"
        if given is None:
            given = ModelVersion(
                id=f"{repo_id}@{revision}", model_id=repo_id, version=f"0.0.{sequence}"
            )
        elif not isinstance(given, ModelVersion):
            raise InvalidArgumentError(
                f"model_version must be a ModelVersion, got {type(given).__name__}"
            )
        version = msgspec.structs.replace(
            given,
            artifacts=given.artifacts if given.artifacts is not None else artifacts,
            artifact_uri=given.artifact_uri or uri,
            created_at=given.created_at or datetime.now(timezone.utc),
        )
        try:
            return validate(version)
        except ValidationError as exc:
            message = f"model_version of {repo_id}@{revision}: invalid"
            raise ValidationError(exc.items, message) from None

    def pull(self, repo_id: str, local_dir: Path, *, revision: str | None = None) -> Path:
        """Copy a revision (the latest by default) into ``local_dir``, checking every file
        against the manifest's SHA-256 before it is written."""
        manifest = self._resolve(repo_id, revision)
        target = Path(local_dir)
        for entry in manifest.files:
            rel = validate_relative_path(entry.path)
            try:
                data = self.store.get("sha256/" + entry.sha256)
            except NotFoundError:
                raise IntegrityError(
                    f"{repo_id}@{manifest.revision}: the content of {rel!r} is missing"
                ) from None
            except IntegrityError:
                raise IntegrityError(
                    f"{repo_id}@{manifest.revision}: {rel!r} was modified in the store "
                    "(its SHA-256 no longer matches the manifest)"
                ) from None
            if len(data) != entry.size:
                raise IntegrityError(f"{repo_id}@{manifest.revision}: {rel!r} has a wrong size")
            out = target.joinpath(*rel.split("/"))
            out.parent.mkdir(parents=True, exist_ok=True)
            tmp = out.with_name(f".{out.name}.pull-tmp")
            tmp.write_bytes(data)
            os.replace(tmp, out)
        return target
