"""Where SQLite snapshots are kept: a local directory (``BASTION_BACKUP_DIR``) and, when
``BASTION_BACKUP_URL`` is set, an offsite one (``s3://bucket[/prefix]?endpoint_url=…&region=…``, or
another directory). Each backup is two objects: ``<id>.bak`` (the encrypted archive) and
``<id>.json`` (its manifest), the manifest written last — a backup without one was cut short
(a crash, a kill -9) and is neither listed nor restored, so a half-written file never counts.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import IO, Protocol
from urllib.parse import parse_qs, urlsplit

from bastion.config import ConfigError


class RepositoryError(Exception):
    """The repository cannot be written or read (unreachable, full, refused); one line, no secrets."""


class Repository(Protocol):
    description: str

    def put(self, name: str, source: Path) -> int: ...
    def open(self, name: str) -> IO[bytes]: ...
    def put_manifest(self, backup_id: str, manifest: dict) -> None: ...
    def manifests(self) -> list[dict]: ...
    def delete(self, backup_id: str) -> None: ...


class LocalRepository:
    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.description = str(self.directory)

    def _ensure(self) -> None:
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise RepositoryError(f"cannot create {self.directory}: {exc.strerror}") from exc

    def _write(self, name: str, write) -> int:
        """Write to a temporary name, fsync, then rename: a crash leaves no file under the real name."""
        self._ensure()
        final, partial = self.directory / name, self.directory / f".{name}.partial"
        try:
            descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "wb") as handle:
                write(handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(partial, final)
            return final.stat().st_size
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise RepositoryError(f"cannot write {final}: {exc.strerror}") from exc

    def put(self, name: str, source: Path) -> int:
        def copy(handle):
            with open(source, "rb") as stream:
                shutil.copyfileobj(stream, handle, 1024 * 1024)
        return self._write(name, copy)

    def open(self, name: str) -> IO[bytes]:
        try:
            return open(self.directory / name, "rb")
        except OSError as exc:
            raise RepositoryError(f"cannot read {self.directory / name}: {exc.strerror}") from exc

    def put_manifest(self, backup_id: str, manifest: dict) -> None:
        self._write(f"{backup_id}.json", lambda handle: handle.write(json.dumps(manifest, sort_keys=True).encode()))

    def manifests(self) -> list[dict]:
        if not self.directory.is_dir():
            if self.directory.exists() or not self.directory.parent.exists():
                raise RepositoryError(f"{self.directory} is not a directory")
            return []
        found = []
        for path in sorted(self.directory.glob("*.json")):
            try:
                found.append(json.loads(path.read_text()))
            except (OSError, ValueError):
                continue
        return found

    def delete(self, backup_id: str) -> None:
        for name in (f"{backup_id}.json", f"{backup_id}.bak"):  # the manifest first: never a listed backup without data
            (self.directory / name).unlink(missing_ok=True)


class S3Repository:
    def __init__(self, bucket: str, prefix: str, *, endpoint_url: str | None, region: str | None) -> None:
        import boto3
        from botocore.config import Config

        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region or "us-east-1",
                                   config=Config(retries={"max_attempts": 2}, connect_timeout=5, read_timeout=30))
        self.description = f"s3://{bucket}/{self.prefix}".rstrip("/")

    def _key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def _call(self, what: str, function, *args, **kwargs):
        from boto3.exceptions import S3UploadFailedError
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return function(*args, **kwargs)
        except (BotoCoreError, ClientError, S3UploadFailedError) as exc:
            error = getattr(exc, "response", {}).get("Error", {}) if hasattr(exc, "response") else {}
            reason = f"{error.get('Code')}: {error.get('Message', '')}" if error else str(exc).splitlines()[0]
            raise RepositoryError(f"cannot {what} {self.description}: {reason}") from exc

    def put(self, name: str, source: Path) -> int:
        # upload_file completes a multipart upload only at the end: an interrupted one leaves no object.
        self._call("write to", self.client.upload_file, str(source), self.bucket, self._key(name))
        return source.stat().st_size

    def open(self, name: str) -> IO[bytes]:
        return self._call("read from", self.client.get_object, Bucket=self.bucket, Key=self._key(name))["Body"]

    def put_manifest(self, backup_id: str, manifest: dict) -> None:
        self._call("write to", self.client.put_object, Bucket=self.bucket, Key=self._key(f"{backup_id}.json"),
                   Body=json.dumps(manifest, sort_keys=True).encode(), ContentType="application/json")

    def manifests(self) -> list[dict]:
        found = []
        paginator = self.client.get_paginator("list_objects_v2")
        pages = self._call("list", lambda: list(paginator.paginate(Bucket=self.bucket, Prefix=self._key(""))))
        for page in pages:
            for item in page.get("Contents", []):
                if item["Key"].endswith(".json"):
                    body = self._call("read from", self.client.get_object, Bucket=self.bucket, Key=item["Key"])["Body"]
                    try:
                        found.append(json.loads(body.read()))
                    except ValueError:
                        continue
        return found

    def delete(self, backup_id: str) -> None:
        for name in (f"{backup_id}.json", f"{backup_id}.bak"):
            self._call("delete from", self.client.delete_object, Bucket=self.bucket, Key=self._key(name))


def check_url(url: str) -> None:
    """``ConfigError`` for a ``BASTION_BACKUP_URL`` that is neither a directory nor s3://bucket."""
    parse_url(url, connect=False)


def parse_url(url: str, *, connect: bool = True) -> Repository | None:
    parts = urlsplit(url)
    if parts.scheme in ("", "file"):
        path = parts.path if parts.scheme == "file" else url
        if not path or not os.path.isabs(path):
            raise ConfigError(f"BASTION_BACKUP_URL={url!r}: a directory must be an absolute path")
        return LocalRepository(Path(path)) if connect else None
    if parts.scheme == "s3" and parts.netloc:
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        unknown = set(query) - {"endpoint_url", "region"}
        if unknown:
            raise ConfigError(f"BASTION_BACKUP_URL: unknown option(s) {', '.join(sorted(unknown))} "
                              "(known: endpoint_url, region)")
        if not connect:
            return None
        return S3Repository(parts.netloc, parts.path, endpoint_url=query.get("endpoint_url"), region=query.get("region"))
    raise ConfigError(f"BASTION_BACKUP_URL={url!r}: use a directory, file:///directory or s3://bucket[/prefix]")


def configured() -> list[Repository]:
    """The local repository, then the offsite one when ``BASTION_BACKUP_URL`` is set."""
    from django.conf import settings

    repositories: list[Repository] = [LocalRepository(Path(settings.BASTION_BACKUP_DIR))]
    offsite = parse_url(settings.BASTION_BACKUP_URL) if settings.BASTION_BACKUP_URL else None
    if offsite is not None:
        repositories.append(offsite)
    return repositories


def by_description(description: str) -> Repository:
    for repository in configured():
        if repository.description == description:
            return repository
    raise RepositoryError(f"repository {description} is not configured here (BASTION_BACKUP_DIR, BASTION_BACKUP_URL)")
