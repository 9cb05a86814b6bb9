"""1,000 randomly mutated copies of valid signed requests (method, path, query, headers, body,
token), half RPC with ACS3-HMAC-SHA256 and half object PUTs with OSS V1: none is accepted, while
the unmutated originals are."""
import base64
import datetime
import json
import hashlib
import hmac
import random
import urllib.parse
import uuid

import oss2
import pytest
import requests
from alibabacloud_sts20150401 import models as sts_models
from alibabacloud_sts20150401.client import Client as StsClient

from alibaba import app_user, config, root_ram, seed_role
from conftest import Server

BUCKET = "web-direct-upload"


def rfc3986(text):
    return urllib.parse.quote(text, safe="-_.~")


class Request:
    def __init__(self, method, path, query, headers, body):
        self.method, self.path, self.query, self.headers, self.body = method, path, dict(query), dict(headers), body

    def send(self, base):
        url = base + urllib.parse.quote(self.path, safe="/") + ("?" + urllib.parse.urlencode(self.query) if self.query else "")
        return requests.request(self.method, url, headers=self.headers, data=self.body, timeout=10)


def acs3_request(host, creds):
    """GetCallerIdentity, signed the way the official SDKs sign by default."""
    query = {"Extra": "value with spaces", "List": "a,b"}
    headers = {"host": host, "x-acs-action": "GetCallerIdentity", "x-acs-version": "2015-04-01",
               "x-acs-date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
               "x-acs-signature-nonce": uuid.uuid4().hex, "x-acs-content-sha256": hashlib.sha256(b"").hexdigest(),
               "x-acs-security-token": creds.security_token}
    names = sorted(headers)
    canonical = "\n".join(["POST", "/", "&".join(f"{rfc3986(k)}={rfc3986(v)}" for k, v in sorted(query.items())),
                           "".join(f"{n}:{headers[n]}\n" for n in names), ";".join(names), headers["x-acs-content-sha256"]])
    string_to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
    signature = hmac.new(creds.access_key_secret.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()
    headers["Authorization"] = f"ACS3-HMAC-SHA256 Credential={creds.access_key_id},SignedHeaders={';'.join(names)},Signature={signature}"
    del headers["host"]
    return Request("POST", "/", query, headers, b"")


def oss_request(creds, index):
    """PutObject into uploads/ with Content-MD5, signed with OSS V1 and the security token."""
    body = f"payload {index}".encode()
    key = f"uploads/fuzz/{index}.txt"
    headers = {"Content-Type": "text/plain", "Content-MD5": base64.b64encode(hashlib.md5(body).digest()).decode(),
               "Date": datetime.datetime.now(datetime.timezone.utc).strftime("%a, %d %b %Y %H:%M:%S GMT"),
               "x-oss-security-token": creds.security_token, "x-oss-meta-round": str(index)}
    oss_headers = "".join(f"{k.lower()}:{v}\n" for k, v in sorted(headers.items(), key=lambda kv: kv[0].lower())
                          if k.lower().startswith("x-oss-"))
    string_to_sign = "\n".join(["PUT", headers["Content-MD5"], headers["Content-Type"], headers["Date"]]) + "\n" \
        + oss_headers + f"/{BUCKET}/{key}"
    signature = base64.b64encode(hmac.new(creds.access_key_secret.encode(), string_to_sign.encode(), hashlib.sha1).digest()).decode()
    headers["Authorization"] = f"OSS {creds.access_key_id}:{signature}"
    return Request("PUT", f"/{BUCKET}/{key}", {}, headers, body)


def flip(text, rng):
    """One character of `text` replaced by another."""
    if not text:
        return "x"
    position = rng.randrange(len(text))
    replacement = rng.choice([c for c in "abcdefXYZ0123456789-_" if c != text[position]])
    return text[:position] + replacement + text[position + 1:]


def mutate(request, rng):
    """A copy with one signed part changed: method, path, query, a header, the body or the token."""
    kind = rng.choice(["method", "path", "query-value", "query-add", "query-drop", "header", "body", "token"])
    if kind == "method":
        request.method = rng.choice([m for m in ("GET", "PUT", "POST", "DELETE") if m != request.method])
    elif kind == "path":
        request.path = "/" + flip(request.path[1:], rng)
    elif kind == "query-value" and request.query:
        name = rng.choice(sorted(request.query))
        request.query[name] = flip(request.query[name], rng)
    elif kind in ("query-add", "query-value"):
        request.query["acl" if request.method == "PUT" else "Injected"] = "1"
    elif kind == "query-drop" and request.query:
        del request.query[rng.choice(sorted(request.query))]
    elif kind == "query-drop":
        request.query["uploads"] = ""
    elif kind == "header":
        name = rng.choice(sorted(n for n in request.headers if n not in ("Authorization", "x-acs-security-token", "x-oss-security-token")))
        request.headers[name] = flip(request.headers[name], rng)
    elif kind == "body":
        request.body = request.body + b"!" if request.body else b"extra=1"
    else:
        name = "x-acs-security-token" if "x-acs-security-token" in request.headers else "x-oss-security-token"
        request.headers[name] = flip(request.headers[name], rng)
    return kind


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    server = Server(tmp_path_factory.mktemp("fuzz") / "data")
    root, ram = root_ram(server)
    key = app_user(ram)
    role = seed_role(ram, root["AccountId"])
    oss2.Bucket(oss2.Auth(root["AccessKeyId"], root["AccessKeySecret"]), server.url, BUCKET).create_bucket()
    sts = StsClient(config(server, key.access_key_id, key.access_key_secret))
    creds = sts.assume_role(sts_models.AssumeRoleRequest(role_arn=role.arn, role_session_name="fuzz")).body.credentials
    yield server, creds
    server.stop()


def test_no_mutated_request_is_accepted(setup):
    server, creds = setup
    host = server.url.removeprefix("http://")
    rng = random.Random(20261122)
    for build in (lambda i: acs3_request(host, creds), lambda i: oss_request(creds, i)):
        original = build(-1).send(server.url)
        assert original.status_code == 200, original.text
    accepted = []
    kinds = {}
    for index in range(1000):
        request = acs3_request(host, creds) if index % 2 == 0 else oss_request(creds, index)
        kind = mutate(request, rng)
        kinds[kind] = kinds.get(kind, 0) + 1
        response = request.send(server.url)
        if response.status_code < 400:
            accepted.append((index, kind, request.method, request.path, request.query, response.status_code))
        if index % 100 == 0:  # a fresh unmutated request still gets through
            fresh = acs3_request(host, creds) if index % 200 == 0 else oss_request(creds, 10_000 + index)
            assert fresh.send(server.url).status_code == 200
    assert accepted == []
    assert min(kinds.values()) > 50, kinds
    # Nothing a mutated request carried was stored: only the original and the fresh uploads are there.
    root = json.loads((server.data / "root-credentials.json").read_text())
    stored = oss2.Bucket(oss2.Auth(root["AccessKeyId"], root["AccessKeySecret"]), server.url, BUCKET)
    keys = sorted(o.key for o in oss2.ObjectIterator(stored))
    assert keys == sorted(f"uploads/fuzz/{n}.txt" for n in (-1, 10_100, 10_300, 10_500, 10_700, 10_900))


@pytest.mark.parametrize("header", ["Date", "x-oss-date", "x-amz-date", "x-acs-date"])
def test_a_non_ascii_date_is_refused_not_fatal(server, header):
    """A date that Foundation's formatter would stop the process on (found by Benchmarks/fuzz):
    each signature form refuses it, and the server lives on."""
    date = "Sat, 05 \u0598De= 2026 10:10:10 GMT".encode()
    attempts = [
        ("PUT", "/bucket/key", {"Authorization": "OSS LTAI:c2lnbmF0dXJl"}),
        ("PUT", "/bucket/key", {"Authorization": "OSS4-HMAC-SHA256 Credential=LTAI/20261205/cn-hangzhou/oss/aliyun_v4_request,"
                                                 "Signature=ab"}),
        ("PUT", "/bucket/key", {"Authorization": "AWS AKID:c2lnbmF0dXJl"}),
        ("PUT", "/bucket/key", {"Authorization": "AWS4-HMAC-SHA256 Credential=AKID/20261205/us-east-1/s3/aws4_request, "
                                                 "SignedHeaders=host;x-amz-date, Signature=00"}),
        ("POST", "/", {"Authorization": "ACS3-HMAC-SHA256 Credential=LTAI,SignedHeaders=host;x-acs-date,Signature=ab",
                       "x-acs-action": "GetCallerIdentity", "x-acs-version": "2015-04-01"}),
    ]
    for method, path, headers in attempts:
        response = requests.request(method, server.url + path, headers={**headers, header: date}, data=b"x", timeout=10)
        assert 400 <= response.status_code < 500, (headers, response.status_code, response.text[:200])
    assert server.get("/healthz").status_code == 200
    assert server.process.poll() is None
