"""``pcpr init-bucket``: anonymous read of the prefix only, CORS for GET, merged and idempotent.

Checked against the SeaweedFS S3 server, reading anonymously over plain HTTP.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest
from helpers import pcpr
from s3_fixtures import Bucket

from pcpr_publish.stores.s3_bucket import (
    CORS_ID,
    POLICY_SID,
    cors_rule,
    merge_cors,
    merge_policy,
    policy_statement,
    statement_id,
)

pytestmark = pytest.mark.s3


def put(bucket: Bucket, key: str, body: bytes = b"{}") -> None:
    bucket.server.client().put_object(Bucket=bucket.name, Key=key, Body=body,
                                      ContentType="application/json; charset=utf-8")


def status(bucket: Bucket, key: str) -> int:
    return bucket.server.anonymous(bucket.name, key).status


def init(bucket: Bucket, *args: str, **env: str | None) -> Any:
    return pcpr("init-bucket", *args, env=bucket.server.env(**env))


def test_dry_run_prints_the_json_and_applies_nothing(s3_bucket: Bucket) -> None:
    put(s3_bucket, "od/locations.json")
    result = init(s3_bucket, s3_bucket.url("od"), "--dry-run")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["policy"]["Statement"] == [{
        "Sid": statement_id("od/"), "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{s3_bucket.name}/od/*",
    }]
    rule = doc["cors"]["CORSRules"][0]
    assert rule["AllowedOrigins"] == ["*"] and rule["AllowedMethods"] == ["GET", "HEAD"]
    assert doc["urls"] == [f"{s3_bucket.server.endpoint}/{s3_bucket.name}/od/locations.json",
                           f"{s3_bucket.server.endpoint}/{s3_bucket.name}/od/tariffs.json"]
    client = s3_bucket.server.client()
    with pytest.raises(client.exceptions.ClientError):
        client.get_bucket_policy(Bucket=s3_bucket.name)
    assert status(s3_bucket, "od/locations.json") == 403


def test_applies_anonymous_read_on_the_prefix_only(s3_bucket: Bucket) -> None:
    for key in ("od/locations.json", "od/locations/a.json", "secret.json", "od2/x.json", "other/od/y.json"):
        put(s3_bucket, key, key.encode())
    result = init(s3_bucket, s3_bucket.url("od"))
    assert result.exit_code == 0, result.output
    assert f"{s3_bucket.server.endpoint}/{s3_bucket.name}/od/locations.json" in result.stdout

    resp = s3_bucket.server.anonymous(s3_bucket.name, "od/locations/a.json")
    assert (resp.status, resp.body) == (200, b"od/locations/a.json")
    assert resp.headers["content-type"] == "application/json; charset=utf-8"
    for outside in ("secret.json", "od2/x.json", "other/od/y.json"):
        assert status(s3_bucket, outside) == 403, outside
    assert status(s3_bucket, "?list-type=2") == 403  # no anonymous listing
    listing = s3_bucket.server.anonymous(s3_bucket.name, "od/?list-type=2")
    assert b"locations" not in listing.body  # at most SeaweedFS's empty "directory" object

    cors = s3_bucket.server.anonymous(s3_bucket.name, "od/locations.json", {"Origin": "https://maps.example"})
    assert cors.status == 200
    assert cors.headers.get("access-control-allow-origin") in ("*", "https://maps.example")
    preflight = urllib.request.Request(f"{s3_bucket.server.endpoint}/{s3_bucket.name}/od/locations.json",
                                       method="OPTIONS", headers={"Origin": "https://maps.example",
                                                                  "Access-Control-Request-Method": "GET"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(preflight, timeout=30) as resp:
        assert resp.status == 200
        assert "GET" in resp.headers.get("Access-Control-Allow-Methods", "")


def test_existing_policy_and_cors_are_kept_and_rerunning_changes_nothing(s3_bucket: Bucket) -> None:
    client = s3_bucket.server.client()
    other = {"Sid": "Other", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
             "Resource": f"arn:aws:s3:::{s3_bucket.name}/press/*"}
    client.put_bucket_policy(Bucket=s3_bucket.name,
                             Policy=json.dumps({"Version": "2012-10-17", "Statement": [other]}))
    client.put_bucket_cors(Bucket=s3_bucket.name, CORSConfiguration={"CORSRules": [
        {"ID": "theirs", "AllowedMethods": ["GET"], "AllowedOrigins": ["https://a.example"]}]})
    put(s3_bucket, "press/release.json")
    put(s3_bucket, "data/locations.json")

    assert init(s3_bucket, s3_bucket.url("data")).exit_code == 0
    first = json.loads(client.get_bucket_policy(Bucket=s3_bucket.name)["Policy"])
    assert [s["Sid"] for s in first["Statement"]] == ["Other", statement_id("data/")]
    rules = client.get_bucket_cors(Bucket=s3_bucket.name)["CORSRules"]
    assert [r.get("ID") for r in rules] == ["theirs", CORS_ID]
    assert status(s3_bucket, "press/release.json") == 200
    assert status(s3_bucket, "data/locations.json") == 200

    dry = init(s3_bucket, s3_bucket.url("data"), "--dry-run")
    assert json.loads(dry.stdout)["policy"] == first
    assert init(s3_bucket, s3_bucket.url("data")).exit_code == 0
    assert json.loads(client.get_bucket_policy(Bucket=s3_bucket.name)["Policy"]) == first
    assert len(client.get_bucket_cors(Bucket=s3_bucket.name)["CORSRules"]) == 2


def test_dry_run_without_access_still_shows_pcprs_part(s3_bucket: Bucket) -> None:
    closed = s3_bucket.server.ports["master.grpc"] + 1
    result = init(s3_bucket, "s3://some-bucket/od", "--dry-run", "--endpoint-url",
                  f"http://127.0.0.1:{closed}", AWS_MAX_ATTEMPTS="1")
    assert result.exit_code == 0, result.output
    assert "could not read the current policy" in result.stderr
    doc = json.loads(result.stdout)
    assert doc["policy"]["Statement"][0]["Resource"] == "arn:aws:s3:::some-bucket/od/*"


def test_errors_and_warnings(s3_bucket: Bucket) -> None:
    result = init(s3_bucket, "s3://no-such-bucket-here/od")
    assert result.exit_code == 3
    assert result.stderr.startswith("pcpr: error: ") and "Traceback" not in result.output
    assert init(s3_bucket, "https://example.org/od").exit_code == 2
    refused = init(s3_bucket, s3_bucket.url(""))
    assert refused.exit_code == 2 and "--allow-bucket-root" in refused.stderr
    result = init(s3_bucket, s3_bucket.url(""), "--dry-run", "--allow-bucket-root")
    assert "has no prefix: every object" in result.stderr
    assert json.loads(result.stdout)["policy"]["Statement"][-1]["Resource"] == f"arn:aws:s3:::{s3_bucket.name}/*"


def test_policy_documents() -> None:
    assert policy_statement("b", "x/", "cn-north-1")["Resource"] == "arn:aws-cn:s3:::b/x/*"
    assert policy_statement("b", "x/", "us-gov-west-1")["Resource"] == "arn:aws-us-gov:s3:::b/x/*"
    mine = policy_statement("b", "x/")
    legacy_same = {"Sid": POLICY_SID, "Resource": "arn:aws:s3:::b/x/*"}
    legacy_other = {"Sid": POLICY_SID, "Resource": "arn:aws:s3:::b/y/*"}
    merged = merge_policy({"Statement": [legacy_same, legacy_other]}, mine)
    assert merged == {"Statement": [legacy_other, mine], "Version": "2012-10-17"}
    assert statement_id("x/") != statement_id("y/") and statement_id("x/").isalnum()
    assert merge_cors(None, cors_rule()) == {"CORSRules": [cors_rule()]}


def test_a_second_prefix_keeps_the_first_prefix_public(s3_bucket: Bucket) -> None:
    for key in ("one/locations.json", "two/locations.json", "secret/data.txt"):
        put(s3_bucket, key)
    assert init(s3_bucket, s3_bucket.url("one")).exit_code == 0
    assert init(s3_bucket, s3_bucket.url("two")).exit_code == 0
    assert status(s3_bucket, "one/locations.json") == 200
    assert status(s3_bucket, "two/locations.json") == 200
    assert status(s3_bucket, "secret/data.txt") == 403
    policy = json.loads(s3_bucket.server.client().get_bucket_policy(Bucket=s3_bucket.name)["Policy"])
    assert len(policy["Statement"]) == 2


@pytest.mark.parametrize("prefix", ["wild*", "x/*/y", "od$", "sp ace", "a[b]"])
def test_wildcards_and_special_characters_in_a_prefix_are_refused(s3_bucket: Bucket, prefix: str) -> None:
    put(s3_bucket, "secret/data.txt")
    result = init(s3_bucket, f"s3://{s3_bucket.name}/{prefix}")
    assert result.exit_code == 2, result.output
    assert "the prefix may only contain" in result.stderr
    assert status(s3_bucket, "secret/data.txt") == 403


def test_a_query_in_the_target_is_refused(s3_bucket: Bucket) -> None:
    result = init(s3_bucket, f"s3://{s3_bucket.name}/a?b")
    assert result.exit_code == 2 and "takes no ?query" in result.stderr
