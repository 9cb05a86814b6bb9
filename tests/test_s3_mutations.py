"""1,000 SigV4 requests signed by botocore's S3 signer and then changed in one place (method, path,
query, a signed header, the body, the session token, the Authorization header, an aws-chunked chunk
or its signature): none is accepted, and nothing is stored."""
import calendar
import email.utils
import os
import random
import time
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import pytest
import requests
from alibabacloud_ram20150501 import models as ram_models
from alibabacloud_sts20150401 import models as sts_models
from alibabacloud_sts20150401.client import Client as StsClient

import s3
from alibaba import app_user, config, root_ram, trust_policy
from conftest import Server

BUCKET = "mutations"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    server = Server(tmp_path_factory.mktemp("s3-mutations") / "data")
    root, ram = root_ram(server)
    key = app_user(ram)
    role = ram.create_role(ram_models.CreateRoleRequest(
        role_name="s3-admin", assume_role_policy_document=trust_policy(f"acs:ram::{root['AccountId']}:root"))).body.role
    ram.attach_policy_to_role(ram_models.AttachPolicyToRoleRequest(
        policy_type="System", policy_name="AliyunOSSFullAccess", role_name="s3-admin"))
    sts = StsClient(config(server, key.access_key_id, key.access_key_secret))
    c = sts.assume_role(sts_models.AssumeRoleRequest(role_arn=role.arn, role_session_name="mutations")).body.credentials
    client = s3.root_client(server, root)
    client.create_bucket(Bucket=BUCKET)
    client.put_object(Bucket=BUCKET, Key="base/existing", Body=b"existing")
    yield dict(server=server, client=client, root=s3.credentials(root["AccessKeyId"], root["AccessKeySecret"]),
               session=s3.credentials(c.access_key_id, c.access_key_secret, c.security_token))
    server.stop()


def originals(world):
    """Valid requests of every form, each (kind, prepared request)."""
    server, root, session = world["server"], world["root"], world["session"]
    body = os.urandom(3000)
    return [
        ("put", s3.signed(server, "PUT", f"/{BUCKET}/new/put", root, body=body,
                          headers={"Content-Type": "application/octet-stream", "x-amz-meta-note": "one"})),
        ("get", s3.signed(server, "GET", f"/{BUCKET}/base/existing", root)),
        ("list", s3.signed(server, "GET", f"/{BUCKET}", root, query={"list-type": "2", "prefix": "base/"})),
        ("token", s3.signed(server, "PUT", f"/{BUCKET}/new/token", session, body=body)),
        ("stream", s3.streaming_put(server, f"/{BUCKET}/new/stream", root, os.urandom(150_000))),
        ("unsigned", s3.signed(server, "PUT", f"/{BUCKET}/new/unsigned", root, body=body, payload="UNSIGNED-PAYLOAD")),
        ("v2", s3.signed_v2(server, "PUT", f"/{BUCKET}/new/v2", session, body=body,
                            headers={"Content-Type": "image/jpeg", "x-amz-meta-note": "two"})),
    ]


def flip(text, index):
    """The text with the hex digit (or character) at `index` changed."""
    old = text[index]
    new = "0" if old != "0" else "1"
    return text[:index] + new + text[index + 1:]


def mutate(kind, prepared, rng):
    """One change a signature must notice; returns (description, method, url, headers, body)."""
    method, url, headers, body, _ = prepared
    headers = dict(headers)
    parts = urlsplit(url)
    choices = ["method", "path", "query", "header", "authorization", "date"]
    if kind == "v2":
        # Version 2 signs the method, path, sub-resources, Content-Type, Date and x-amz- headers, not the body.
        choices = ["method", "path", "subresource", "v2header", "v2signature", "v2date", "token"]
    if kind in ("put", "token", "stream") and body:
        choices.append("body")
    if kind == "token":
        choices.append("token")
    if kind == "stream":
        choices += ["chunk", "chunk", "cut"]
    choice = rng.choice(choices)
    if choice == "method":
        method = rng.choice([m for m in ("GET", "PUT", "POST", "DELETE", "HEAD") if m != method])
    elif choice == "path":
        path = parts.path
        variant = rng.choice(["char", "suffix", "bucket", "case"])
        if variant == "char" and len(path) > len(f"/{BUCKET}/"):
            index = rng.randrange(len(f"/{BUCKET}/"), len(path))
            path = path[:index] + ("x" if path[index] != "x" else "y") + path[index + 1:]
        elif variant in ("char", "suffix"):
            path += rng.choice(["x", "/", "%20", ".."])
        elif variant == "bucket":
            path = path.replace(f"/{BUCKET}", "/mutationz", 1)
        else:
            path = path.upper()
        url = urlunsplit(parts._replace(path=path))
    elif choice == "query":
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        variant = rng.choice(["add", "change", "drop"]) if pairs else "add"
        if variant == "add":
            pairs.append(rng.choice([("prefix", "new/"), ("x-id", "PutObject"), ("max-keys", "1"), ("marker", "a")]))
        elif variant == "change":
            index = rng.randrange(len(pairs))
            pairs[index] = (pairs[index][0], pairs[index][1] + "x")
        else:
            pairs.pop(rng.randrange(len(pairs)))
        url = urlunsplit(parts._replace(query=urlencode(pairs, quote_via=quote)))
    elif choice == "header":
        signed = headers["Authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
        name = rng.choice([n for n in signed if n not in ("host", "content-length")])
        actual = next(k for k in headers if k.lower() == name)
        value = headers[actual]
        headers[actual] = rng.choice([value + "x", value[:-1] if len(value) > 1 else "x", value.upper() if value != value.upper() else value.lower() + "q"])
    elif choice == "authorization":
        authorization = headers["Authorization"]
        variant = rng.choice(["signature", "credential", "region", "signed"])
        if variant == "signature":
            start = authorization.index("Signature=") + len("Signature=")
            headers["Authorization"] = flip(authorization, start + rng.randrange(64))
        elif variant == "credential":
            start = authorization.index("Credential=") + len("Credential=")
            headers["Authorization"] = authorization[:start + 3] + ("Q" if authorization[start + 3] != "Q" else "R") + authorization[start + 4:]
        elif variant == "region":
            headers["Authorization"] = authorization.replace(f"/{s3.REGION}/", "/eu-west-1/")
        else:
            # One name dropped from SignedHeaders (host, or the one after it).
            signed = authorization.split("SignedHeaders=")[1].split(",")[0]
            names = signed.split(";")
            names.pop(rng.randrange(len(names)))
            headers["Authorization"] = authorization.replace(f"SignedHeaders={signed}", "SignedHeaders=" + ";".join(names))
    elif choice == "date":
        stamp = calendar.timegm(time.strptime(headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ"))
        shifted = time.gmtime(stamp + rng.choice([-61, -1, 1, 60]))
        headers["X-Amz-Date"] = time.strftime("%Y%m%dT%H%M%SZ", shifted)
    elif choice == "body":
        index = rng.randrange(len(body))
        if kind == "stream":
            # A byte of chunk data, not of the framing.
            index = body.index(b"\r\n") + 2 + rng.randrange(1000)
        body = body[:index] + bytes([body[index] ^ 0x01]) + body[index + 1:]
    elif choice == "subresource":
        url += rng.choice(["?acl", "?uploads", "?tagging", "?versionId=1"])
    elif choice == "v2header":
        name = rng.choice(["Content-Type", "x-amz-meta-note"])
        headers[name] = headers[name] + "x"
    elif choice == "v2signature":
        key, signature = headers["Authorization"][len("AWS "):].rsplit(":", 1)
        if rng.random() < 0.5:
            signature = ("A" if signature[0] != "A" else "B") + signature[1:]
        else:
            key = key[:-1] + ("Q" if key[-1] != "Q" else "R")
        headers["Authorization"] = f"AWS {key}:{signature}"
    elif choice == "v2date":
        stamp = email.utils.parsedate_to_datetime(headers["Date"]).timestamp() + rng.choice([-61, -1, 1, 60])
        headers["Date"] = email.utils.formatdate(stamp, usegmt=True)
    elif choice == "token":
        name = next(k for k in headers if k.lower() == "x-amz-security-token")
        token = headers[name]
        index = rng.randrange(len(token))
        headers[name] = token[:index] + ("A" if token[index] != "A" else "B") + token[index + 1:]
    elif choice == "chunk":
        starts = [i for i in range(len(body)) if body.startswith(b"chunk-signature=", i)]
        index = rng.choice(starts) + len("chunk-signature=") + rng.randrange(64)
        body = body[:index] + (b"1" if body[index:index + 1] == b"0" else b"0") + body[index + 1:]
    elif choice == "cut":
        # The body without its final zero-size chunk.
        body = body[:body.rindex(b"0;chunk-signature=")]
        headers = {k: v for k, v in headers.items() if k.lower() != "content-length"}
    assert (method, url, headers, body) != prepared[:4], (kind, choice)
    return f"{kind}:{choice}", method, url, headers, body


def test_a_thousand_mutated_requests_are_all_refused(world):
    started = time.monotonic()
    for kind, prepared in originals(world):
        response = s3.send(prepared)
        assert response.status_code == 200, (kind, response.status_code, response.text)
    world["client"].delete_objects(Bucket=BUCKET, Delete={"Objects": [
        {"Key": key} for key in ("new/put", "new/token", "new/stream", "new/unsigned", "new/v2")]})
    rng = random.Random(18)
    session = requests.Session()
    accepted = []
    seen = set()
    count = 0
    while count < 1000:
        # Fresh signatures every round, so no mutation is refused only for its age.
        for kind, prepared in originals(world):
            description, method, url, headers, body = mutate(kind, prepared, rng)
            response = session.request(method, url, headers=headers, data=body, timeout=30)
            seen.add(description)
            if response.status_code < 400:
                accepted.append((description, method, url, response.status_code))
            count += 1
    assert accepted == [], accepted[:5]
    for kind, choice in [("put", "body"), ("token", "token"), ("stream", "chunk"), ("stream", "cut"), ("stream", "body"),
                         ("get", "method"), ("list", "query"), ("put", "header"), ("unsigned", "authorization"), ("put", "date"), ("v2", "v2signature"),
                         ("v2", "subresource"), ("v2", "token")]:
        assert f"{kind}:{choice}" in seen
    listing = world["client"].list_objects_v2(Bucket=BUCKET)
    assert [o["Key"] for o in listing.get("Contents", [])] == ["base/existing"]
    assert world["client"].list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
    assert time.monotonic() - started < 90
