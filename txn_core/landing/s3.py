"""The landing zone in an S3 bucket (`TXN_LANDING=s3://bucket/prefix`), same layout as the folder.

Uploads stream in as multipart uploads (constant memory: one part buffered at a time); an
object appears only when its multipart upload completes, so the sensor never sees half of one.
Credentials and endpoint come from boto3's usual sources (the instance role in production;
AWS_ENDPOINT_URL for a local S3-compatible server).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from txn_core.landing.zone import (
    ERROR_SUFFIX,
    FAILED,
    INCOMING,
    PROCESSED,
    LandedFile,
    filed_key,
    safe_file_name,
)

PART_BYTES = 8 * 1024 * 1024  # S3 parts must be at least 5 MiB, except the last
# botocore's own retries, with backoff, for throttling and S3's 5xx; what outlasts them fails
# the attempt as a transient error, which the run retries again later.
CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5})


def _is_missing(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound")


class _S3UploadWriter:
    def __init__(self, client, bucket: str, key: str, final_key: str):
        self._client, self._bucket, self._key = client, bucket, key
        self.final_key = final_key
        self._buffer = bytearray()
        self._parts: list[dict] = []
        self._upload_id = client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]

    def write(self, chunk: bytes) -> None:
        self._buffer += chunk
        if len(self._buffer) >= PART_BYTES:
            self._send_part()

    def _send_part(self) -> None:
        number = len(self._parts) + 1
        response = self._client.upload_part(
            Bucket=self._bucket,
            Key=self._key,
            UploadId=self._upload_id,
            PartNumber=number,
            Body=bytes(self._buffer),
        )
        self._parts.append({"PartNumber": number, "ETag": response["ETag"]})
        self._buffer.clear()

    def commit(self) -> str:
        if self._buffer or not self._parts:
            self._send_part()
        self._client.complete_multipart_upload(
            Bucket=self._bucket,
            Key=self._key,
            UploadId=self._upload_id,
            MultipartUpload={"Parts": self._parts},
        )
        return self.final_key

    def abort(self) -> None:
        self._client.abort_multipart_upload(
            Bucket=self._bucket, Key=self._key, UploadId=self._upload_id
        )


class S3LandingZone:
    def __init__(self, url: str, client=None):
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise ValueError(f"not an S3 landing zone URL: {url!r} (expected s3://bucket/prefix)")
        self.url = url
        self.bucket = parts.netloc
        self.prefix = parts.path.strip("/")
        self.client = client or boto3.client("s3", config=CLIENT_CONFIG)

    def _object_key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def _zone_key(self, object_key: str) -> str:
        return object_key[len(self.prefix) + 1 :] if self.prefix else object_key

    def list_incoming(self) -> list[LandedFile]:
        files = []
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self._object_key(INCOMING + "/")):
            for item in page.get("Contents", []):
                key = self._zone_key(item["Key"])
                name = key.rsplit("/", 1)[-1]
                if "/" in key[len(INCOMING) + 1 :] or not name or name.startswith("."):
                    continue
                modified_ns = int(item["LastModified"].timestamp() * 1e9)
                files.append(LandedFile(key, item["Size"], modified_ns))
        return sorted(files, key=lambda landed: (landed.modified_ns, landed.key))

    def open_upload(self, upload_id: str, file_name: str) -> _S3UploadWriter:
        key = f"{INCOMING}/{upload_id}--{safe_file_name(file_name)}"
        return _S3UploadWriter(self.client, self.bucket, self._object_key(key), key)

    def local_path(self, key: str, scratch: Path) -> Path:
        """Downloads the object (streamed to disk) for DuckDB to read. Only a missing object
        is FileNotFoundError; throttling and S3's own failures stay ClientErrors (transient)."""
        target = scratch / key.rsplit("/", 1)[-1]
        try:
            self.client.download_file(self.bucket, self._object_key(key), str(target))
        except ClientError as exc:
            if _is_missing(exc):
                raise FileNotFoundError(f"{key} is not in the landing zone {self.url}") from exc
            raise
        return target

    def mark_processed(self, key: str, upload_id: str) -> str:
        return self._move(key, filed_key(PROCESSED, key, upload_id))

    def mark_failed(self, key: str, upload_id: str, reason: str) -> str:
        target = filed_key(FAILED, key, upload_id)
        self.client.put_object(
            Bucket=self.bucket,
            Key=self._object_key(f"{target}{ERROR_SUFFIX}"),
            Body=(reason + "\n").encode(),
        )
        return self._move(key, target)

    def _move(self, key: str, target: str) -> str:
        if key == target:
            return target
        try:
            # The managed copy handles objects over 5 GB with a multipart copy.
            self.client.copy(
                {"Bucket": self.bucket, "Key": self._object_key(key)},
                self.bucket,
                self._object_key(target),
            )
        except ClientError as exc:
            # Moved already by an earlier attempt that stopped before recording it.
            if not (_is_missing(exc) and self._exists(target)):
                raise
        self.client.delete_object(Bucket=self.bucket, Key=self._object_key(key))
        return target

    def _exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._object_key(key))
        except ClientError as exc:
            if _is_missing(exc):
                return False
            raise
        return True
