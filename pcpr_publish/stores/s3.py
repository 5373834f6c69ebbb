"""An S3 prefix as a publishing target (AWS S3 or an S3-compatible store).

Connection: a boto3 session from the standard chain (environment, ``--profile``, shared config,
instance or task role); endpoint from ``--endpoint-url``, else ``AWS_ENDPOINT_URL_S3``, else
``AWS_ENDPOINT_URL``; path-style addressing whenever an endpoint is given (S3-compatible stores
rarely do virtual hosts) unless ``path_style`` says otherwise.

Checksums: boto3 ≥ 1.36 sends CRC32 checksums on every upload by default, which several
S3-compatible servers reject or mishandle; they are asked for only "when required". DeleteObjects
is such an operation and some servers insist on ``Content-MD5`` for it, so that header is added.
Each PutObject carries ``Content-MD5`` as well, so the server rejects a corrupted upload.

Retries: botocore's ``standard`` mode (``adaptive`` when ``AWS_RETRY_MODE`` or the profile says
so) retries throttling (SlowDown, 503), 5xx, timeouts and dropped connections with capped
exponential backoff and jitter; ``AWS_MAX_ATTEMPTS`` (or the profile's ``max_attempts``)
overrides the default of 5 attempts. The connection pool is sized for the upload workers.

Lock: ``_pcpr/lock`` created with ``PutObject`` + ``If-None-Match: *`` (S3 conditional writes;
SeaweedFS honours it too), so only one writer can create it. A held lock is taken over when it is
older than ``stale_after`` (measured on the server's clock: ``Last-Modified`` against the
response ``Date``), or at once when its holder provably ran on this machine and has exited. On a
server that does not implement conditional writes (501 / NotImplemented), the fallback is
check-then-put; either way the lock is read back and must carry this run's unique token. Without
conditional writes that narrows but cannot close the race, which the README, Publishing to S3 says.

Errors: every botocore failure becomes an :class:`S3Error` (a ``TargetError``, exit 3) with one
line that says what to fix; no traceback.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import time
import uuid
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlparse

from pcpr_publish.config import S3Config
from pcpr_publish.errors import ConfigError, InputError, TargetError
from pcpr_publish.stores.base import (
    LOCK_KEY,
    LockHeld,
    RemoteObject,
    check_key,
    holder_is_gone,
    local_identity,
)

DEFAULT_MAX_ATTEMPTS = 5
DELETE_BATCH = 1000  # DeleteObjects limit


class S3Error(TargetError):
    """A failed S3 call. ``detail`` is the message without the target URL (for wrapping)."""

    def __init__(self, url: str, detail: str) -> None:
        self.detail = detail
        super().__init__(f"{url}: {detail}")


def parse_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix/`` → ``("bucket", "some/prefix/")``; the prefix is "" or ends in /."""
    parsed = urlparse(url)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ConfigError(f"{url}: not an S3 URL (expected s3://bucket/prefix)")
    if parsed.query or parsed.fragment:
        raise ConfigError(f"{url}: an S3 URL takes no ?query or #fragment")
    prefix = parsed.path.strip("/")
    if any(part in ("", ".", "..") for part in prefix.split("/")) and prefix:
        raise ConfigError(f"{url}: the prefix must not contain empty, '.' or '..' segments")
    bad = sorted(set(re.sub(r"[A-Za-z0-9._~/-]", "", prefix)))
    if bad:
        # A bucket policy reads * and ? as wildcards: s3://b/wild* would make other prefixes
        # public. Only letters, digits and . _ ~ - are allowed in prefix segments.
        raise ConfigError(f"{url}: the prefix may only contain letters, digits and . _ ~ - / "
                          f"(found {' '.join(repr(c) for c in bad)})")
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", parsed.netloc):
        raise ConfigError(f"{url}: {parsed.netloc!r} is not a valid bucket name")
    return parsed.netloc, f"{prefix}/" if prefix else ""


def resolve_endpoint(endpoint_url: str | None) -> str | None:
    """``--endpoint-url``, else ``AWS_ENDPOINT_URL_S3``, else ``AWS_ENDPOINT_URL`` (else AWS)."""
    return (endpoint_url or os.environ.get("AWS_ENDPOINT_URL_S3")
            or os.environ.get("AWS_ENDPOINT_URL") or None)


def describe_error(exc: BaseException) -> str:
    """One line saying what went wrong with an S3 call and, where obvious, what to do."""
    from botocore import exceptions as bx

    if isinstance(exc, TargetError):
        return getattr(exc, "detail", None) or str(exc)
    if isinstance(exc, bx.NoCredentialsError):
        return ("no AWS credentials found (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, use "
                "--profile, or run with an instance or task role)")
    if isinstance(exc, bx.PartialCredentialsError):
        return f"incomplete AWS credentials: {exc}"
    if isinstance(exc, bx.ProfileNotFound):
        return f"AWS profile not found: {exc}"
    if isinstance(exc, bx.CredentialRetrievalError):
        return f"could not obtain AWS credentials: {exc}"
    if isinstance(exc, (bx.EndpointConnectionError, bx.ConnectTimeoutError, bx.ProxyConnectionError)):
        return f"cannot connect to the S3 endpoint ({exc})"
    if isinstance(exc, (bx.ReadTimeoutError, bx.ConnectionClosedError)):
        return f"the S3 endpoint dropped or timed out a request ({exc})"
    if isinstance(exc, bx.SSLError):
        return f"TLS error talking to the S3 endpoint ({exc})"
    if isinstance(exc, bx.ClientError):
        err = exc.response.get("Error", {})
        code = str(err.get("Code") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode"))
        message = str(err.get("Message") or "").strip()
        hints = {
            "NoSuchBucket": "the bucket does not exist",
            "AccessDenied": "access denied (check the IAM permissions: docs/s3.md, Access denied)",
            "AllAccessDisabled": "access to the bucket is disabled",
            "InvalidAccessKeyId": "the AWS access key id is not known to this endpoint",
            "SignatureDoesNotMatch": "the AWS secret key does not match the access key id",
            "ExpiredToken": "the AWS session token has expired",
            "PermanentRedirect": "the bucket is in another region (pass --region)",
            "AuthorizationHeaderMalformed": "wrong region for this bucket (pass --region)",
            "IllegalLocationConstraintException": "wrong region for this bucket (pass --region)",
            "SlowDown": "throttled by S3 (SlowDown) after retries",
            "403": "access denied (HTTP 403)",
            "404": "not found (HTTP 404)",
            "301": "the bucket is in another region or needs another endpoint (pass --region)",
        }
        if code not in hints:
            return f"{code}: {message}" if message else code
        # AccessDenied's message can say why (e.g. Block Public Access); others add nothing.
        return f"{hints[code]}: {message}" if code == "AccessDenied" and message else hints[code]
    if isinstance(exc, bx.BotoCoreError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _add_content_md5(params: dict[str, Any], **_: Any) -> None:
    """DeleteObjects must carry a checksum; many S3-compatible servers only understand MD5."""
    body = params.get("body")
    headers = params["headers"]
    if isinstance(body, bytes) and "Content-MD5" not in headers:
        headers["Content-MD5"] = base64.b64encode(hashlib.md5(body).digest()).decode("ascii")


def make_client(
    *,
    profile: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    path_style: bool | None = None,
    max_connections: int = 10,
) -> Any:
    """A configured boto3 S3 client (raises botocore errors; callers map them)."""
    import boto3
    import botocore.session
    from botocore.config import Config

    endpoint = resolve_endpoint(endpoint_url)
    core = botocore.session.Session(profile=profile)
    session = boto3.session.Session(botocore_session=core)
    region = region or session.region_name or ("us-east-1" if endpoint else None)
    if path_style is None:
        path_style = endpoint is not None
    # AWS_RETRY_MODE / AWS_MAX_ATTEMPTS or the profile's retry_mode / max_attempts, else ours.
    retry_mode = core.get_config_variable("retry_mode")
    if retry_mode not in ("standard", "adaptive"):
        retry_mode = "standard"  # botocore's own default is "legacy"
    try:
        attempts = max(1, int(core.get_config_variable("max_attempts") or DEFAULT_MAX_ATTEMPTS))
    except (TypeError, ValueError):
        attempts = DEFAULT_MAX_ATTEMPTS
    config = Config(
        region_name=region,
        s3={"addressing_style": "path" if path_style else "auto"},
        retries={"mode": retry_mode, "total_max_attempts": attempts},
        max_pool_connections=max(10, max_connections),
        connect_timeout=10,
        read_timeout=60,
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        user_agent_extra="pcpr",
    )
    client = session.client("s3", endpoint_url=endpoint, config=config)
    client.meta.events.register("before-call.s3.DeleteObjects", _add_content_md5)
    return client


def _code(exc: BaseException) -> str:
    from botocore.exceptions import ClientError

    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        return str(err.get("Code") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode"))
    return ""


class S3Store:
    """A publishing target under ``s3://bucket/prefix``. Thread-safe (boto3 clients are)."""

    def __init__(self, url: str, bucket: str, prefix: str, client: Any,
                 endpoint_url: str | None = None, region: str | None = None,
                 max_workers: int = 8, allow_bucket_root: bool = False) -> None:
        self.url = url
        self.max_workers = max_workers
        self.allow_bucket_root = allow_bucket_root
        self.bucket = bucket
        self.prefix = prefix
        self.client = client
        self.endpoint_url = endpoint_url
        self.region = region
        self.conditional_puts: bool | None = None  # learnt on the first lock attempt

    @classmethod
    def from_url(
        cls,
        url: str,
        profile: str | None = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        path_style: bool | None = None,
        workers: int = 8,
    ) -> S3Store:
        bucket, prefix = parse_s3_url(url)
        clean = f"s3://{bucket}/{prefix}".rstrip("/")
        try:
            client = make_client(profile=profile, region=region, endpoint_url=endpoint_url,
                                 path_style=path_style, max_connections=workers + 2)
        except Exception as exc:  # noqa: BLE001 - e.g. ProfileNotFound
            raise S3Error(clean, describe_error(exc)) from None
        return cls(clean, bucket, prefix, client, resolve_endpoint(endpoint_url),
                   client.meta.region_name, max_workers=workers)

    @classmethod
    def from_config(cls, url: str, s3: S3Config, workers: int = 8) -> S3Store:
        """The store for ``url`` with the ``[s3]`` section of the configuration."""
        store = cls.from_url(url, profile=s3.profile, region=s3.region,
                             endpoint_url=s3.endpoint_url, path_style=s3.path_style,
                             workers=workers)
        store.allow_bucket_root = s3.allow_bucket_root
        return store

    def default_report_path(self) -> str:
        return "pcpr-report.json"  # the working directory: never under the public prefix

    def holds_path(self, path: str) -> bool:
        return False  # a local path is never inside a bucket

    def check_ours(self, marker_key: str) -> None:
        """Refuse a bucket root unless allowed, and a prefix that holds objects pcpr did not
        put there (no manifest, no pending list): publishing would write among them."""
        if not self.prefix and not self.allow_bucket_root:
            raise ConfigError(f"{self.url}: a bucket root as target makes pcpr the owner of the "
                              "whole bucket; publish under a prefix (s3://bucket/opendata) or "
                              "pass --allow-bucket-root ([s3] allow_bucket_root = true)")
        internal = marker_key.rsplit("/", 1)[0]
        # Listings, not reads: the manifest of a large site is megabytes, and the run reads it
        # once anyway when it plans.
        ours = self._some_keys(f"{internal}/")
        if {self._key(marker_key), self._key(f"{internal}/pending.json")} & set(ours):
            return
        foreign = [k for k in self._some_keys("") if k != self._key(LOCK_KEY)]
        if foreign:
            raise InputError(self.url, None, "holds objects pcpr did not publish (e.g. "
                             f"{foreign[0]}) and no {marker_key}; publish to an empty prefix "
                             "or one pcpr made")

    # -- helpers -----------------------------------------------------------------------------

    def _some_keys(self, under: str) -> list[str]:
        """A few full keys under ``prefix + under`` (enough to tell empty from not)."""
        try:
            resp = self.client.list_objects_v2(Bucket=self.bucket, Prefix=self.prefix + under,
                                               MaxKeys=5)
        except Exception as exc:  # noqa: BLE001
            raise self._fail("listing the prefix", exc) from None
        return [o["Key"] for o in resp.get("Contents", []) if not o["Key"].endswith("/")]

    def _key(self, key: str) -> str:
        check_key(key)
        return self.prefix + key

    def _fail(self, what: str, exc: BaseException) -> S3Error:
        return S3Error(self.url, f"{what}: {describe_error(exc)}")

    def public_url(self, key: str) -> str:
        """The anonymous HTTPS address of ``key`` (what consumers are given)."""
        path = quote(self._key(key))
        if self.endpoint_url:
            return f"{self.endpoint_url.rstrip('/')}/{self.bucket}/{path}"
        region = self.region or "us-east-1"
        if "." in self.bucket:  # a dotted name does not match the *.s3 TLS certificate
            return f"https://s3.{region}.amazonaws.com/{self.bucket}/{path}"
        return f"https://{self.bucket}.s3.{region}.amazonaws.com/{path}"

    # -- Store protocol ----------------------------------------------------------------------

    def read(self, key: str) -> bytes | None:
        full = self._key(key)  # a bad key is a bug of the caller, not an S3 failure
        try:
            resp = self.client.get_object(Bucket=self.bucket, Key=full)
            return bytes(resp["Body"].read())
        except Exception as exc:  # noqa: BLE001
            if _code(exc) in ("NoSuchKey", "404"):
                return None
            raise self._fail(f"reading {key}", exc) from None

    def list(self) -> dict[str, RemoteObject]:
        out: dict[str, RemoteObject] = {}
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.prefix)
            for page in pages:
                for obj in page.get("Contents", []):
                    full = obj["Key"]
                    if not full.startswith(self.prefix) or full.endswith("/"):
                        continue
                    key = full[len(self.prefix):]
                    if key == LOCK_KEY:
                        continue
                    out[key] = RemoteObject(key, int(obj.get("Size", 0)),
                                            str(obj.get("ETag", "")).strip('"') or None)
        except Exception as exc:  # noqa: BLE001
            raise self._fail("listing the prefix", exc) from None
        return out

    def write(self, key: str, body: bytes, content_type: str, cache_control: str) -> None:
        full = self._key(key)
        md5 = base64.b64encode(hashlib.md5(body).digest()).decode("ascii")
        try:
            self.client.put_object(Bucket=self.bucket, Key=full, Body=body,
                                   ContentType=content_type, CacheControl=cache_control,
                                   ContentMD5=md5)
        except Exception as exc:  # noqa: BLE001 - the executor names the key
            raise S3Error(self.url, describe_error(exc)) from None

    def delete(self, keys: list[str]) -> None:
        for start in range(0, len(keys), DELETE_BATCH):
            batch = [self._key(k) for k in keys[start:start + DELETE_BATCH]]
            try:
                resp = self.client.delete_objects(
                    Bucket=self.bucket,
                    Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True},
                )
            except Exception as exc:  # noqa: BLE001
                raise self._fail(f"deleting {len(batch)} objects", exc) from None
            errors = [e for e in resp.get("Errors", []) if e.get("Code") != "NoSuchKey"]
            if errors:
                first = errors[0]
                detail = f"{first.get('Code')} {first.get('Message', '')}".strip()
                raise S3Error(self.url, f"deleting {len(errors)} of {len(batch)} objects failed, "
                              f"first {first.get('Key')}: {detail}")

    # -- lock --------------------------------------------------------------------------------

    def _lock_body(self, owner: str) -> bytes:
        doc = {"owner": owner, "token": uuid.uuid4().hex, **local_identity(),
               "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        return json.dumps(doc, sort_keys=True).encode()

    def _put_lock(self, body: bytes) -> bool:
        """Create the lock object if absent. True if we created it."""
        key = self._key(LOCK_KEY)
        if self.conditional_puts is not False:
            try:
                self.client.put_object(Bucket=self.bucket, Key=key, Body=body,
                                       ContentType="application/json", CacheControl="no-store",
                                       IfNoneMatch="*")
                self.conditional_puts = True
                return True
            except Exception as exc:  # noqa: BLE001
                code = _code(exc)
                if code in ("PreconditionFailed", "412", "ConditionalRequestConflict", "409"):
                    self.conditional_puts = True
                    return False
                if code not in ("NotImplemented", "501"):
                    raise self._fail("taking the lock", exc) from None
                self.conditional_puts = False
        # Fallback for servers without conditional writes: check, put, read back our token.
        if self._lock_info() is not None:
            return False
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=body,
                                   ContentType="application/json", CacheControl="no-store")
        except Exception as exc:  # noqa: BLE001
            raise self._fail("taking the lock", exc) from None
        return True

    def _lock_info(self) -> tuple[bytes, float, str] | None:
        """(body, age in seconds on the server's clock, etag) of the lock, or None if absent."""
        try:
            resp = self.client.get_object(Bucket=self.bucket, Key=self._key(LOCK_KEY))
            body = bytes(resp["Body"].read())
        except Exception as exc:  # noqa: BLE001
            if _code(exc) in ("NoSuchKey", "404"):
                return None
            raise self._fail("reading the lock", exc) from None
        modified = resp.get("LastModified")
        now = time.time()
        date = resp.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
        if date:
            try:
                now = parsedate_to_datetime(date).timestamp()
            except (TypeError, ValueError):
                pass
        age = now - modified.timestamp() if modified is not None else 0.0
        return body, age, str(resp.get("ETag", ""))

    def _check_bucket(self) -> None:
        """Fail clearly on a missing bucket before the first write: some S3-compatible servers
        (SeaweedFS) would otherwise create it on the lock's PUT."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except Exception as exc:  # noqa: BLE001
            if _code(exc) in ("404", "NoSuchBucket", "NotFound"):
                raise S3Error(self.url, "checking the bucket: the bucket does not exist") from None
            # Anything else (403, no credentials, no connection): a HEAD carries no error body,
            # so let the next request report it precisely.

    def acquire_lock(self, owner: str, stale_after: float) -> None:
        self._check_bucket()
        body = self._lock_body(owner)
        for _ in range(3):
            if self._put_lock(body):
                # Read back our unique token: catches a server that accepted If-None-Match
                # without honouring it while another writer got in.
                info = self._lock_info()
                if info is not None and info[0] == body:
                    return
                raise LockHeld(f"{self.url}: another publish took the lock at the same moment")
            info = self._lock_info()
            if info is None:
                continue  # released meanwhile: try again
            held, age, etag = info
            try:
                holder = json.loads(held)
            except ValueError:
                holder = {}
            if not isinstance(holder, dict):
                holder = {}
            if age > stale_after or holder_is_gone(holder) or holder.get("owner") == owner:
                if self._replace_lock(etag, body):
                    info = self._lock_info()
                    if info is not None and info[0] == body:
                        return
                continue
            name = holder.get("owner") or held.decode(errors="replace").strip()[:80] or "?"
            raise LockHeld(f"{self.url} is locked by {name} ({age:.0f}s ago)")
        raise LockHeld(f"{self.url}: could not take the lock")

    def _replace_lock(self, etag: str, body: bytes) -> bool:
        """Take over the lock whose ETag is ``etag``: a conditional PUT (If-Match), so that of
        two runs that judged the same lock stale only one wins. Servers without conditional
        overwrites get a delete, and the next round's create-if-absent decides."""
        key = self._key(LOCK_KEY)
        if self.conditional_puts is not False:
            try:
                self.client.put_object(Bucket=self.bucket, Key=key, Body=body,
                                       ContentType="application/json", CacheControl="no-store",
                                       IfMatch=etag)
                return True
            except Exception as exc:  # noqa: BLE001
                code = _code(exc)
                if code in ("PreconditionFailed", "412", "ConditionalRequestConflict", "409",
                            "NoSuchKey", "404"):
                    return False
                if code not in ("NotImplemented", "501"):
                    raise self._fail("taking over a stale lock", exc) from None
        again = self._lock_info()
        if again is not None and again[2] == etag:
            try:
                self.client.delete_object(Bucket=self.bucket, Key=key)
            except Exception as exc:  # noqa: BLE001
                raise self._fail("removing a stale lock", exc) from None
        return False

    def release_lock(self, owner: str) -> None:
        info = self._lock_info()
        if info is None:
            return
        try:
            holder = json.loads(info[0])
        except ValueError:
            return
        if isinstance(holder, dict) and holder.get("owner") == owner:
            try:
                self.client.delete_object(Bucket=self.bucket, Key=self._key(LOCK_KEY))
            except Exception as exc:  # noqa: BLE001
                raise self._fail("releasing the lock", exc) from None
