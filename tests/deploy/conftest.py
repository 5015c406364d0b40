"""Fixtures of the deploy tests."""

from tests.deploy.s3server import s3, s3_endpoint

__all__ = ["s3", "s3_endpoint"]
