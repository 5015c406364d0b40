"""moto's standalone S3 server on 127.0.0.1 (an ephemeral port), and settings that use it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

REGION = "us-east-1"
KEY_ID, SECRET = "testing-key-id", "testing-secret-key"


@dataclass(frozen=True)
class S3:
    endpoint: str
    bucket: str

    def client(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=KEY_ID,
            aws_secret_access_key=SECRET,
        )

    def connection(self) -> dict[str, Any]:
        """``AUTHCHECK_S3_CONNECTION`` as settings.py builds it for this server."""
        return {
            "endpoint_url": self.endpoint,
            "region_name": REGION,
            "addressing_style": "path",
            "signature_version": "s3v4",
            "access_key": KEY_ID,
            "secret_key": SECRET,
        }

    def storage_settings(self) -> dict[str, Any]:
        """``STORAGES['default']`` exactly as settings.py builds it for AUTHCHECK_STORAGE=s3."""
        return {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                **self.connection(),
                "bucket_name": self.bucket,
                "location": "media",
                "default_acl": None,
                "querystring_auth": True,
                "querystring_expire": 300,
                "file_overwrite": False,
            },
        }

    def keys(self, bucket: str | None = None) -> list[str]:
        listed = self.client().list_objects_v2(Bucket=bucket or self.bucket)
        return sorted(o["Key"] for o in listed.get("Contents", []))


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3(s3_endpoint: str, settings) -> S3:
    """A fresh private bucket, and the settings of AUTHCHECK_STORAGE=s3 pointing at it."""
    store = S3(s3_endpoint, f"authcheck-{uuid.uuid4().hex[:10]}")
    store.client().create_bucket(Bucket=store.bucket)
    settings.AUTHCHECK_STORAGE = "s3"
    settings.AUTHCHECK_S3_CONNECTION = store.connection()
    settings.STORAGES = {**settings.STORAGES, "default": store.storage_settings()}
    # The moto server on 127.0.0.1 is reachable by a browser here: the player is redirected.
    settings.AUTHCHECK_S3_PUBLIC_ENDPOINT_URL = store.endpoint
    settings.AUTHCHECK_MEDIA_REDIRECT = True
    return store
