"""The ``s3://`` storage backend.

Settings, from ``[plugins.s3]`` in ``tom.toml``, ``TOM_S3_<KEY>``, or the usual AWS
variables (in that order):

=================== ============================================== ===========================
key                 AWS variables also read                        meaning
=================== ============================================== ===========================
``endpoint_url``    ``AWS_ENDPOINT_URL_S3``, ``AWS_ENDPOINT_URL``  an S3-compatible server
``region``          ``AWS_REGION``, ``AWS_DEFAULT_REGION``         the bucket's region
``access_key_id``   ``AWS_ACCESS_KEY_ID``                          credentials (secret)
``secret_access_key`` ``AWS_SECRET_ACCESS_KEY``                    credentials (secret)
``session_token``   ``AWS_SESSION_TOKEN``                          temporary credentials
``profile``         ``AWS_PROFILE``                                a profile of ~/.aws
``anon``                                                           no credentials (public data)
``block_size``                                                     part size of uploads, MB
``create_bucket``                                                  create a missing bucket
=================== ============================================== ===========================

Without explicit credentials botocore's usual chain applies (``~/.aws/credentials``, an
instance role...). Timeouts and retries come from the ``[http]`` section.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tomcore.config import Setting
from tomcore.contracts.storage import StorageBackend
from tomcore.errors import ConfigError, StorageError

if TYPE_CHECKING:  # pragma: no cover
    import fsspec

MB = 2**20


class S3Storage(StorageBackend):
    """Data products in an S3 bucket (AWS, or any S3-compatible server)."""

    name = "s3"
    title = "S3"
    description = "Data products in S3 or an S3-compatible server (s3://bucket/prefix)."
    schemes = ("s3",)
    config_section = "s3"
    settings = (
        Setting("endpoint_url", None, help="URL of an S3-compatible server (default: AWS).",
                env=("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")),
        Setting("region", None, help="The bucket's region.", env=("AWS_REGION", "AWS_DEFAULT_REGION")),
        Setting("access_key_id", None, secret=True, help="Access key id.", env=("AWS_ACCESS_KEY_ID",)),
        Setting("secret_access_key", None, secret=True, help="Secret access key.", env=("AWS_SECRET_ACCESS_KEY",)),
        Setting("session_token", None, secret=True, help="Session token of temporary credentials.",
                env=("AWS_SESSION_TOKEN",)),
        Setting("profile", None, help="A profile of the AWS configuration files.", env=("AWS_PROFILE",)),
        Setting("anon", False, "bool", help="Connect without credentials (public buckets)."),
        Setting("block_size", 8, "int", help="Part size of multipart uploads, in MB (at least 5)."),
        Setting("create_bucket", True, "bool", help="Create the bucket when it does not exist."),
    )

    @property
    def block_size(self) -> int:  # type: ignore[override]
        return max(5, int(self.config.get("block_size") or 8)) * MB

    def _options(self) -> dict[str, Any]:
        http = self.config.settings.section("http", plugin=False)
        client: dict[str, Any] = {}
        if self.config.get("endpoint_url"):
            client["endpoint_url"] = self.config["endpoint_url"]
        if self.config.get("region"):
            client["region_name"] = self.config["region"]
        options: dict[str, Any] = {
            "client_kwargs": client,
            "config_kwargs": {"connect_timeout": http["connect_timeout"], "read_timeout": http["timeout"],
                              "retries": {"max_attempts": int(http["retries"]) + 1, "mode": "standard"}},
            "default_block_size": self.block_size,
            "skip_instance_cache": True,
        }
        if self.config.get("anon"):
            options["anon"] = True
        elif self.config.get("access_key_id") or self.config.get("secret_access_key"):
            options["key"] = self.config.get("access_key_id")
            options["secret"] = self.config.get("secret_access_key")
            if self.config.get("session_token"):
                options["token"] = self.config["session_token"]
        elif self.config.get("profile"):
            options["profile"] = self.config["profile"]
        return options

    def filesystem(self, url: str) -> tuple[fsspec.AbstractFileSystem, str]:
        import s3fs

        path = url[len("s3://"):] if url.startswith("s3://") else url
        path = path.strip("/")
        bucket = path.split("/", 1)[0]
        if not bucket:
            raise ConfigError(f"storage.url {url!r} names no bucket: use s3://bucket/prefix")
        return s3fs.S3FileSystem(**self._options()), path

    def prepare(self, fs: fsspec.AbstractFileSystem, root: str) -> None:
        bucket = root.split("/", 1)[0]
        try:
            fs.ls(root, refresh=True)
            return
        except FileNotFoundError:
            pass
        if not self.config.get("create_bucket"):
            raise StorageError(f"there is no bucket {bucket!r} (create it, or set create_bucket = true "
                               "under [plugins.s3])")
        try:
            if fs.exists(bucket):
                return
        except FileNotFoundError:
            pass
        # s3fs sends the client's region as the LocationConstraint, which us-east-1 refuses.
        region = self.config.get("region")
        fs.mkdir(bucket, **({"region_name": region} if region and region != "us-east-1" else {}))

    def explain(self, exc: BaseException) -> str | None:
        text = str(exc)
        cause = exc.__cause__ or exc.__context__
        code = ""
        response = getattr(cause, "response", None) or getattr(exc, "response", None)
        if isinstance(response, dict):
            code = str(response.get("Error", {}).get("Code", ""))
        if isinstance(exc, PermissionError) or code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied"):
            return (f"access denied: {_first_line(text)} (check the credentials: [plugins.s3] access_key_id and "
                    "secret_access_key, TOM_S3_ACCESS_KEY_ID/TOM_S3_SECRET_ACCESS_KEY or AWS_ACCESS_KEY_ID/"
                    "AWS_SECRET_ACCESS_KEY)")
        if code == "NoSuchBucket" or "NoSuchBucket" in text:
            return "the bucket does not exist"
        name = type(exc).__name__
        if "EndpointConnectionError" in name or "ConnectTimeout" in name or "Could not connect" in text:
            endpoint = self.config.get("endpoint_url") or "AWS"
            return f"cannot reach the S3 endpoint {endpoint}: {_first_line(text)}"
        if "NoCredentials" in name or "Unable to locate credentials" in text:
            return ("no credentials: set access_key_id and secret_access_key under [plugins.s3], the TOM_S3_* or "
                    "AWS_* variables, or anon = true for a public bucket")
        return None


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""
