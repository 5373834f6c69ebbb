"""``pcpr init-bucket s3://bucket/prefix`` (the S3 side): make a published prefix readable by anyone.

Applies exactly two things, both scoped so that nothing outside the prefix becomes public:

* a bucket-policy statement (Sid ``PcprPublicRead``) granting anonymous ``s3:GetObject`` on
  ``arn:aws:s3:::bucket/prefix/*`` only; no ``s3:ListBucket``, so the bucket cannot be browsed;
* a CORS rule (ID ``pcpr-public-get``) allowing GET and HEAD from any origin, so browser apps
  can fetch the feeds.

Both are *merged* into what the bucket already has: other policy statements and other CORS
rules are kept, and pcpr's own statement and rule are replaced, so running it again changes
nothing. ``--dry-run`` prints the JSON that would be applied and applies nothing.

On AWS, the account's or bucket's Block Public Access settings must allow public bucket
policies (``BlockPublicPolicy`` and ``RestrictPublicBuckets`` off for this bucket); pcpr does
not change those settings, it says so when they refuse the policy.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pcpr_publish.errors import ConfigError, TargetError
from pcpr_publish.stores.s3 import S3Error, S3Store, describe_error

POLICY_SID = "PcprPublicRead"
CORS_ID = "pcpr-public-get"


def partition(region: str | None) -> str:
    if region and region.startswith("cn-"):
        return "aws-cn"
    if region and region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def statement_id(prefix: str) -> str:
    """One statement per prefix: pcpr's Sid plus a digest of the prefix (Sids are alphanumeric)."""
    return POLICY_SID + hashlib.sha256(prefix.encode()).hexdigest()[:12]


def policy_statement(bucket: str, prefix: str, region: str | None = None) -> dict[str, Any]:
    """Anonymous read of the objects under ``prefix`` (which is "" or ends with "/")."""
    return {
        "Sid": statement_id(prefix),
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"arn:{partition(region)}:s3:::{bucket}/{prefix}*",
    }


def cors_rule() -> dict[str, Any]:
    return {
        "ID": CORS_ID,
        "AllowedMethods": ["GET", "HEAD"],
        "AllowedOrigins": ["*"],
        "AllowedHeaders": ["*"],
        "ExposeHeaders": ["ETag", "Last-Modified", "Content-Length", "Content-Type"],
        "MaxAgeSeconds": 3600,
    }


def merge_policy(existing: dict[str, Any] | None, statement: dict[str, Any]) -> dict[str, Any]:
    """``existing`` with pcpr's statement for this prefix added or replaced; every other
    statement kept, including pcpr's statements for other prefixes. (A statement of an older
    pcpr, Sid ``PcprPublicRead`` without a digest, is replaced only if it covers this prefix.)"""
    doc = dict(existing or {})
    doc.setdefault("Version", "2012-10-17")
    current = doc.get("Statement", [])
    if isinstance(current, dict):
        current = [current]

    def same(s: Any) -> bool:
        if not isinstance(s, dict):
            return False
        if s.get("Sid") == statement["Sid"]:
            return True
        return s.get("Sid") == POLICY_SID and s.get("Resource") == statement["Resource"]

    doc["Statement"] = [s for s in current if not same(s)]
    doc["Statement"].append(statement)
    return doc


def merge_cors(existing: list[dict[str, Any]] | None, rule: dict[str, Any]) -> dict[str, Any]:
    rules = [r for r in (existing or []) if r.get("ID") != CORS_ID]
    rules.append(rule)
    return {"CORSRules": rules}


@dataclass
class BucketSetup:
    bucket: str
    prefix: str
    policy: dict[str, Any]
    cors: dict[str, Any]
    urls: list[str]

    def document(self) -> dict[str, Any]:
        return {"bucket": self.bucket, "prefix": self.prefix, "policy": self.policy,
                "cors": self.cors, "urls": self.urls}


def _code(exc: BaseException) -> str:
    from botocore.exceptions import ClientError

    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


def _read_current(store: S3Store) -> tuple[dict[str, Any] | None, list[dict[str, Any]] | None]:
    client = store.client
    try:
        raw = client.get_bucket_policy(Bucket=store.bucket)["Policy"]
        policy = json.loads(raw) if raw else None
    except Exception as exc:  # noqa: BLE001
        if _code(exc) not in ("NoSuchBucketPolicy", "NoSuchPolicy", "404"):
            raise S3Error(store.url, f"reading the bucket policy: {describe_error(exc)}") from None
        policy = None
    try:
        rules = client.get_bucket_cors(Bucket=store.bucket)["CORSRules"]
    except Exception as exc:  # noqa: BLE001
        if _code(exc) not in ("NoSuchCORSConfiguration", "NoSuchCORS", "404"):
            raise S3Error(store.url, f"reading the CORS configuration: {describe_error(exc)}") from None
        rules = None
    return policy, rules


def _bucket_region(store: S3Store) -> str | None:
    """The bucket's own region on AWS (for the URLs and the ARN partition), else None."""
    if store.endpoint_url:
        return None
    try:
        where = store.client.get_bucket_location(Bucket=store.bucket).get("LocationConstraint")
    except Exception:  # noqa: BLE001 - not allowed or not reachable: keep the configured region
        return None
    return {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(where, where)


def plan_setup(store: S3Store, *, read_current: bool = True) -> BucketSetup:
    policy, rules = _read_current(store) if read_current else (None, None)
    if read_current:
        store.region = _bucket_region(store) or store.region
    return BucketSetup(
        bucket=store.bucket,
        prefix=store.prefix,
        policy=merge_policy(policy, policy_statement(store.bucket, store.prefix, store.region)),
        cors=merge_cors(rules, cors_rule()),
        urls=[store.public_url("locations.json"), store.public_url("tariffs.json")],
    )


def _blocked(exc: BaseException) -> bool:
    text = str(exc)
    return "BlockPublicPolicy" in text or "block public access" in text.lower()


def init_bucket(
    store: S3Store,
    *,
    dry_run: bool = False,
    echo: Callable[[str], None] = print,
    warn: Callable[[str], None] = print,
) -> BucketSetup:
    """Apply (or with ``dry_run`` print) the bucket policy and CORS rule for the store's prefix."""
    if not store.prefix:
        if not store.allow_bucket_root:
            raise ConfigError(f"{store.url}: with no prefix every object in bucket "
                              f"{store.bucket} would become publicly readable; give a prefix "
                              "(s3://bucket/opendata) or pass --allow-bucket-root")
        warn(f"pcpr: warning: {store.url} has no prefix: every object in bucket "
             f"{store.bucket} becomes publicly readable")
    if dry_run:
        try:
            setup = plan_setup(store)
        except TargetError as exc:
            warn(f"pcpr: warning: could not read the current policy and CORS ({exc}); "
                 "showing pcpr's part only (other statements and rules would be kept)")
            setup = plan_setup(store, read_current=False)
        echo(json.dumps(setup.document(), indent=2))
        return setup

    setup = plan_setup(store)
    try:
        store.client.put_bucket_policy(Bucket=store.bucket, Policy=json.dumps(setup.policy))
    except Exception as exc:  # noqa: BLE001
        if _blocked(exc):
            raise S3Error(store.url, "the bucket's Block Public Access settings refuse a public "
                          "bucket policy: allow public bucket policies for this bucket "
                          "(BlockPublicPolicy and RestrictPublicBuckets off), then run again; "
                          "see docs/s3.md, Block Public Access") from None
        raise S3Error(store.url, f"applying the bucket policy: {describe_error(exc)}") from None
    try:
        store.client.put_bucket_cors(Bucket=store.bucket, CORSConfiguration=setup.cors)
    except Exception as exc:  # noqa: BLE001
        raise S3Error(store.url, f"applying the CORS configuration: {describe_error(exc)}") from None
    echo(f"applied to s3://{store.bucket}: anonymous s3:GetObject on "
         f"{setup.policy['Statement'][-1]['Resource']}, CORS GET/HEAD from any origin")
    for u in setup.urls:
        echo(f"  {u}")
    return setup
