"""OSS API conformance through the official SDKs (`oss2`, `alibabacloud-oss-v2`): what Visage does
not implement is refused without touching data; listings, multipart uploads, checksums, access
rules, tags and the smaller wire details behave as OSS's do."""
import gzip
import hashlib
import json
import os
import random
import subprocess
import time

import alibabacloud_oss_v2 as ossv2
import oss2
import pytest
import requests
from oss2.utils import Crc64

from conftest import Server

BUCKET = "conformance"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request, tmp_path_factory):
    """A server on each metadata engine, with a bucket of the root account and both SDKs."""
    args, database = (), None
    if request.param == "postgresql":
        admin = os.environ.get("VISAGE_TEST_POSTGRES_URL")
        if not admin:
            pytest.fail("VISAGE_TEST_POSTGRES_URL is not set: run the tests with `make test`")
        database = "visage_oss_%d_%d" % (os.getpid(), time.monotonic_ns())
        subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE {database}"], check=True, capture_output=True)
        args = ("--database-url", admin.rsplit("/", 1)[0] + "/" + database)
    server = Server(tmp_path_factory.mktemp("oss-conformance") / "data", args=args)
    root = json.loads((server.data / "root-credentials.json").read_text())
    auth = oss2.Auth(root["AccessKeyId"], root["AccessKeySecret"])
    bucket = oss2.Bucket(auth, server.url, BUCKET)
    bucket.create_bucket()
    cfg = ossv2.config.load_default()
    cfg.credentials_provider = ossv2.credentials.StaticCredentialsProvider(root["AccessKeyId"], root["AccessKeySecret"])
    cfg.region = "cn-hangzhou"
    cfg.endpoint = server.url
    yield dict(server=server, root=root, auth=auth, bucket=bucket, v2=ossv2.Client(cfg))
    server.stop()
    if database:
        subprocess.run(["psql", os.environ["VISAGE_TEST_POSTGRES_URL"], "-qc", f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"],
                       capture_output=True)


def crc64(data):
    crc = Crc64(0)
    crc.update(data)
    return crc.crc


def raw_object(bucket, method, key, params, data=b"", headers=None):
    """A signed request for any sub-resource, sent as oss2 sends its own; the response or the error."""
    try:
        return bucket._Bucket__do_object(method, key, params=params, data=data, headers=headers)
    except oss2.exceptions.ServerError as error:
        return error


def raw_bucket(bucket, method, params, data=b"", headers=None):
    try:
        return bucket._Bucket__do_bucket(method, params=params, data=data, headers=headers)
    except oss2.exceptions.ServerError as error:
        return error


def snapshot(bucket, key):
    head = bucket.head_object(key)
    return bucket.get_object(key).read(), head.etag, head.headers.get("x-oss-meta-kind"), head.content_type


# OSS features Visage does not implement: each must be refused, and the object left as it was.
UNIMPLEMENTED = ["symlink", "lifecycle", "logging", "website", "referer", "policy", "encryption", "versioning", "stat",
                 "append", "restore", "x-oss-process", "worm", "replication", "inventory", "qos", "versionId", "objectInfo",
                 "cname", "requestPayment", "transferAcceleration", "accessPoint", "x-oss-traffic-limit"]


def test_unimplemented_subresources_are_refused_and_touch_nothing(world):
    bucket = world["bucket"]
    bucket.put_object("guarded.txt", b"precious bytes", headers={"x-oss-meta-kind": "original", "Content-Type": "text/x-mine"})
    before = snapshot(bucket, "guarded.txt")
    for name in UNIMPLEMENTED:
        for method in ("PUT", "POST", "DELETE", "GET"):
            params = {name: "" if name != "versionId" else "v1"}
            result = raw_object(bucket, method, "guarded.txt", params, data=b"<Tagging><TagSet /></Tagging>")
            assert isinstance(result, oss2.exceptions.ServerError), (name, method)
            assert (result.status, result.code) == (501, "NotImplemented"), (name, method, result.status, result.code)
            bucket_result = raw_bucket(bucket, method, params, data=b"<x/>")
            assert (bucket_result.status, bucket_result.code) == (501, "NotImplemented"), (name, method)
        assert snapshot(bucket, "guarded.txt") == before, name
    # Combined with an implemented sub-resource, the unknown one still decides.
    result = raw_object(bucket, "PUT", "guarded.txt", {"acl": "", "symlink": ""}, headers={"x-oss-object-acl": "public-read"})
    assert (result.status, result.code) == (501, "NotImplemented")
    assert bucket.get_object_acl("guarded.txt").acl == "default"
    # A HEAD cannot carry a body: the error travels in x-oss-err, decoded by oss2.
    result = raw_object(bucket, "HEAD", "guarded.txt", {"symlink": ""})
    assert (result.status, result.code) == (501, "NotImplemented")
    # The v2 SDK's own operations for features Visage lacks are refused the same way.
    v2 = world["v2"]
    with pytest.raises(Exception) as raised:
        v2.put_symlink(ossv2.PutSymlinkRequest(bucket=BUCKET, key="guarded.txt", symlink_target="other.txt"))
    assert "NotImplemented" in str(raised.value)
    assert snapshot(bucket, "guarded.txt") == before
    # Methods nothing answers, with no unknown parameter, are 405 as before.
    assert raw_object(bucket, "PATCH", "guarded.txt", {}).status == 405


def test_object_acl_and_tags_leave_bytes_alone(world):
    bucket, url = world["bucket"], world["server"].url
    bucket.put_object("acl/photo.txt", b"acl bytes", headers={"x-oss-meta-kind": "acl"})
    before = snapshot(bucket, "acl/photo.txt")
    assert bucket.get_object_acl("acl/photo.txt").acl == "default"
    assert requests.get(f"{url}/{BUCKET}/acl/photo.txt", timeout=10).status_code == 403
    bucket.put_object_acl("acl/photo.txt", oss2.OBJECT_ACL_PUBLIC_READ)
    assert bucket.get_object_acl("acl/photo.txt").acl == "public-read"
    # Public read is for reading only: anonymous GET and HEAD work, anonymous writes do not.
    anonymous = requests.get(f"{url}/{BUCKET}/acl/photo.txt", timeout=10)
    assert anonymous.status_code == 200 and anonymous.content == b"acl bytes"
    assert requests.head(f"{url}/{BUCKET}/acl/photo.txt", timeout=10).status_code == 200
    assert requests.put(f"{url}/{BUCKET}/acl/photo.txt", data=b"x", timeout=10).status_code == 403
    assert requests.delete(f"{url}/{BUCKET}/acl/photo.txt", timeout=10).status_code == 403
    assert requests.get(f"{url}/{BUCKET}/acl/photo.txt?acl", timeout=10).status_code == 403
    with pytest.raises(oss2.exceptions.ServerError) as raised:
        bucket.put_object_acl("acl/photo.txt", "world-writable")
    assert raised.value.code == "InvalidArgument"

    rule = oss2.models.TaggingRule()
    rule.add("team", "web")
    rule.add("year", "2026")
    bucket.put_object_tagging("acl/photo.txt", oss2.models.Tagging(rule))
    assert bucket.get_object_tagging("acl/photo.txt").tag_set.tagging_rule == {"team": "web", "year": "2026"}
    assert bucket.head_object("acl/photo.txt").headers["x-oss-tagging-count"] == "2"
    bucket.delete_object_tagging("acl/photo.txt")
    assert bucket.get_object_tagging("acl/photo.txt").tag_set.tagging_rule == {}
    assert snapshot(bucket, "acl/photo.txt") == before

    # Tags and an access rule given with the upload itself, read back through the v2 SDK.
    bucket.put_object("acl/tagged.txt", b"t", headers={"x-oss-tagging": "a=1&b=two%20words", "x-oss-object-acl": "private"})
    tags = world["v2"].get_object_tagging(ossv2.GetObjectTaggingRequest(bucket=BUCKET, key="acl/tagged.txt")).tag_set.tags
    assert {t.key: t.value for t in tags} == {"a": "1", "b": "two words"}
    assert world["v2"].get_object_acl(ossv2.GetObjectAclRequest(bucket=BUCKET, key="acl/tagged.txt")).acl == "private"
    with pytest.raises(oss2.exceptions.ServerError) as raised:
        bucket.put_object("acl/too-many.txt", b"t", headers={"x-oss-tagging": "&".join(f"k{n}=v" for n in range(11))})
    assert raised.value.code == "InvalidTag"
    assert not bucket.object_exists("acl/too-many.txt")

    # A bucket rule applies to objects that follow it.
    other = oss2.Bucket(world["auth"], url, "public-bucket")
    other.create_bucket(oss2.BUCKET_ACL_PUBLIC_READ)
    other.put_object("open.txt", b"open")
    other.put_object("closed.txt", b"closed", headers={"x-oss-object-acl": "private"})
    assert other.get_bucket_acl().acl == "public-read"
    assert requests.get(f"{url}/public-bucket/open.txt", timeout=10).content == b"open"
    assert requests.get(f"{url}/public-bucket/closed.txt", timeout=10).status_code == 403
    assert requests.get(f"{url}/public-bucket/missing.txt", timeout=10).status_code == 404
    assert requests.get(f"{url}/public-bucket?acl", timeout=10).status_code == 403
    other.put_bucket_acl(oss2.BUCKET_ACL_PRIVATE)
    assert requests.get(f"{url}/public-bucket/open.txt", timeout=10).status_code == 403
    assert requests.get(f"{url}/public-bucket/missing.txt", timeout=10).status_code == 403
    assert other.get_bucket_info().acl.grant == "private"


def test_bucket_location_info_and_listing_buckets(world):
    bucket, auth, url = world["bucket"], world["auth"], world["server"].url
    assert bucket.get_bucket_location().location == "oss-local"
    assert world["v2"].get_bucket_location(ossv2.GetBucketLocationRequest(bucket=BUCKET)).location == "oss-local"
    info = bucket.get_bucket_info()
    assert info.comment == "" and info.acl.grant == "private"
    for name in ("list-a1", "list-a2", "list-b1"):
        oss2.Bucket(auth, url, name).create_bucket()
    service = oss2.Service(auth, url)
    assert [b.name for b in service.list_buckets(prefix="list-a").buckets] == ["list-a1", "list-a2"]
    first = service.list_buckets(prefix="list-", max_keys=2)
    assert [b.name for b in first.buckets] == ["list-a1", "list-a2"] and first.is_truncated
    rest = service.list_buckets(prefix="list-", marker=first.next_marker)
    assert [b.name for b in rest.buckets] == ["list-b1"] and not rest.is_truncated
    assert [b.name for b in oss2.BucketIterator(service, prefix="list-", max_keys=1)] == ["list-a1", "list-a2", "list-b1"]


def test_cors_response_vary(world):
    bucket, url = world["bucket"], world["server"].url
    rule = oss2.models.CorsRule(allowed_origins=["http://app.example"], allowed_methods=["GET"], allowed_headers=["*"])
    bucket.put_bucket_cors(oss2.models.BucketCors([rule], response_vary=True))
    assert bucket.get_bucket_cors().response_vary is True
    bucket.put_object("vary.txt", b"v", headers={"x-oss-object-acl": "public-read"})
    # Even a request from an origin no rule allows is told the answer varies by Origin.
    other = requests.get(f"{url}/{BUCKET}/vary.txt", headers={"Origin": "http://elsewhere.example"}, timeout=10)
    assert other.headers.get("Vary") == "Origin" and "Access-Control-Allow-Origin" not in other.headers
    bucket.put_bucket_cors(oss2.models.BucketCors([rule]))
    assert bucket.get_bucket_cors().response_vary is False
    bucket.delete_bucket_cors()


def test_multipart_listing_copy_checksums_and_type(world):
    bucket = world["bucket"]
    source = bytes(random.Random(7).getrandbits(8) for _ in range(400 * 1024))
    put = bucket.put_object("mp/source.bin", source)
    assert put.crc == crc64(source)
    assert bucket.put_object("mp/empty.bin", b"").crc == 0
    got = bucket.get_object("mp/source.bin")
    assert got.read() == source and got.server_crc == crc64(source)

    uploads = {}
    for key in ("mp/a.bin", "mp/a.bin", "mp/b.bin", "mp/dir/c.bin", "other.bin"):
        uploads.setdefault(key, []).append(bucket.init_multipart_upload(key).upload_id)
    listed = bucket.list_multipart_uploads(prefix="mp/", delimiter="/")
    assert [(u.key, u.upload_id) for u in listed.upload_list] == sorted(
        (k, i) for k in ("mp/a.bin", "mp/b.bin") for i in uploads[k])
    assert listed.prefix_list == ["mp/dir/"]
    iterated = [(u.key, u.upload_id) for u in oss2.MultipartUploadIterator(bucket, max_uploads=1)]
    assert iterated == sorted((k, i) for k, ids in uploads.items() for i in ids)
    v2 = world["v2"].list_multipart_uploads(ossv2.ListMultipartUploadsRequest(bucket=BUCKET, prefix="mp/dir/"))
    assert [u.key for u in v2.uploads] == ["mp/dir/c.bin"]

    # A bucket whose only content is an unfinished upload is not empty.
    spare = oss2.Bucket(world["auth"], world["server"].url, "pending-only")
    spare.create_bucket()
    pending = spare.init_multipart_upload("x.bin").upload_id
    with pytest.raises(oss2.exceptions.BucketNotEmpty):
        spare.delete_bucket()
    spare.abort_multipart_upload("x.bin", pending)
    spare.delete_bucket()

    # Parts copied from another object (whole and by range), one sent, checked by CRC on completion.
    upload_id = uploads["mp/b.bin"][0]
    first = bucket.upload_part_copy(BUCKET, "mp/source.bin", (0, 200 * 1024 - 1), "mp/b.bin", upload_id, 1)
    second = bucket.upload_part_copy(BUCKET, "mp/source.bin", None, "mp/b.bin", upload_id, 2)
    tail = b"the tail"
    third = bucket.upload_part("mp/b.bin", upload_id, 3, tail)
    assert first.crc == crc64(source[:200 * 1024]) and second.crc == crc64(source) and third.crc == crc64(tail)
    parts = bucket.list_parts("mp/b.bin", upload_id).parts
    assert [p.size for p in parts] == [200 * 1024, len(source), len(tail)]
    infos = [oss2.models.PartInfo(1, first.etag, size=200 * 1024, part_crc=first.crc),
             oss2.models.PartInfo(2, second.etag, size=len(source), part_crc=second.crc),
             oss2.models.PartInfo(3, third.etag, size=len(tail), part_crc=third.crc)]
    done = bucket.complete_multipart_upload("mp/b.bin", upload_id, infos)  # oss2 compares the combined CRC
    whole = source[:200 * 1024] + source + tail
    assert done.crc == crc64(whole)
    head = bucket.head_object("mp/b.bin")
    assert head.object_type == "Multipart"
    digests = b"".join(hashlib.md5(p).digest() for p in (source[:200 * 1024], source, tail))
    assert head.etag == hashlib.md5(digests).hexdigest().upper() + "-3"
    assert bucket.get_object("mp/b.bin").read() == whole
    listed = bucket.list_objects(prefix="mp/b.bin").object_list[0]
    assert listed.type == "Multipart" and listed.etag == head.etag
    assert bucket.head_object("mp/source.bin").object_type == "Normal"
    # A copy source the caller cannot see is refused before any part is stored.
    with pytest.raises(oss2.exceptions.NoSuchKey):
        bucket.upload_part_copy(BUCKET, "mp/missing.bin", None, "mp/a.bin", uploads["mp/a.bin"][0], 1)
    assert bucket.list_parts("mp/a.bin", uploads["mp/a.bin"][0]).parts == []
    # oss2's resumable download compares the whole object's CRC too.
    for key, ids in uploads.items():
        for upload in ids:
            if key != "mp/b.bin" or upload != upload_id:
                bucket.abort_multipart_upload(key, upload)


def reference_listing(keys, prefix, delimiter):
    """What a listing must return, in order: keys and common prefixes."""
    entries = []
    for key in sorted(keys, key=lambda k: k.encode()):
        if not key.startswith(prefix):
            continue
        rest = key[len(prefix):]
        if delimiter and delimiter in rest:
            group = prefix + rest[:rest.index(delimiter) + len(delimiter)]
            if not entries or entries[-1] != ("prefix", group):
                entries.append(("prefix", group))
        else:
            entries.append(("key", key))
    return entries


def test_listing_pages_match_a_reference_at_every_page_size(world):
    auth, url = world["auth"], world["server"].url
    bucket = oss2.Bucket(auth, url, "listing-pages")
    bucket.create_bucket()
    rng = random.Random(11)
    keys = set()
    while len(keys) < 1000:
        depth = rng.choice([1, 1, 2, 3, 3])
        parts = [rng.choice(["p", "q", "日本"]) + str(rng.randint(0, 6)) for _ in range(depth)]
        keys.add("/".join(["top"] + parts + ["f%03d" % rng.randint(0, 999)]))
    keys.add("top/p1/")  # a key that equals a common prefix of others
    keys.add("top/plain")
    v2 = world["v2"]
    for key in keys:
        bucket.put_object(key, b"")
    for prefix, delimiter in (("top/", "/"), ("top/p1/", "/"), ("top/p1", ""), ("top/q", "/"), ("top/日本2/", "/")):
        expected = reference_listing(keys, prefix, delimiter)
        for size in range(1, 21):
            # ListObjects (v1, markers) page by page.
            seen, marker = [], ""
            while True:
                page = bucket.list_objects(prefix=prefix, delimiter=delimiter, marker=marker, max_keys=size)
                entries = sorted([("key", o.key) for o in page.object_list] + [("prefix", p) for p in page.prefix_list],
                                 key=lambda e: e[1].encode())
                assert len(entries) <= size
                seen += entries
                if not page.is_truncated:
                    break
                marker = page.next_marker
            assert seen == expected, (prefix, delimiter, size, "v1")
            # ListObjectsV2 (continuation tokens) through the v2 SDK's paginator.
            if size % 4 == 1 or delimiter == "":
                seen = []
                for page in v2.list_objects_v2_paginator().iter_page(
                        ossv2.ListObjectsV2Request(bucket="listing-pages", prefix=prefix, delimiter=delimiter or None),
                        limit=size):
                    seen += sorted([("key", o.key) for o in page.contents or []]
                                   + [("prefix", p.prefix) for p in page.common_prefixes or []], key=lambda e: e[1].encode())
                assert seen == expected, (prefix, delimiter, size, "v2")


def test_batch_delete_with_control_characters_and_hostile_names(world):
    bucket = world["bucket"]
    keys = ["ctl/form\x0cfeed.txt", "ctl/start\x01.txt", "ctl/plain.txt"]
    for key in keys:
        bucket.put_object(key, b"c")
    assert sorted(o.key for o in oss2.ObjectIterator(bucket, prefix="ctl/")) == sorted(keys)
    result = bucket.batch_delete_objects(keys)
    assert sorted(result.deleted_keys) == sorted(keys)
    assert list(oss2.ObjectIterator(bucket, prefix="ctl/")) == []
    # A leading backslash is refused, as OSS refuses it; nothing is stored.
    with pytest.raises(oss2.exceptions.ServerError) as raised:
        bucket.put_object("\\invalid-object-name", b"x")
    assert raised.value.code == "InvalidObjectName"
    assert [o.key for o in oss2.ObjectIterator(bucket, prefix="\\")] == []


def test_head_errors_tell_bucket_from_key(world):
    bucket = world["bucket"]
    with pytest.raises(oss2.exceptions.NoSuchKey):
        bucket.head_object("no/such/key")
    with pytest.raises(oss2.exceptions.NoSuchBucket):
        oss2.Bucket(world["auth"], world["server"].url, "no-such-bucket").head_object("k")
    assert not bucket.object_exists("no/such/key")


def test_response_overrides_and_gzip(world):
    bucket = world["bucket"]
    text = ("Visage keeps text small on the wire. " * 300).encode()
    bucket.put_object("gz/page.txt", text, headers={"Content-Type": "text/plain"})
    bucket.put_object("gz/photo.jpg", text, headers={"Content-Type": "image/jpeg"})
    over = bucket.get_object("gz/page.txt", params={"response-content-type": "text/x-over",
                                                    "response-content-disposition": "attachment; filename=page.txt",
                                                    "response-cache-control": "no-cache",
                                                    "response-content-language": "ja",
                                                    "response-expires": "Thu, 01 Dec 2094 16:00:00 GMT"})
    assert over.read() == text
    assert over.headers["Content-Type"] == "text/x-over"
    assert over.headers["Content-Disposition"] == "attachment; filename=page.txt"
    assert over.headers["Cache-Control"] == "no-cache" and over.headers["Content-Language"] == "ja"
    assert over.headers["Expires"] == "Thu, 01 Dec 2094 16:00:00 GMT"

    zipped = bucket.get_object("gz/page.txt", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip" and "Content-Length" not in zipped.headers
    assert zipped.read() == text  # decoded by the client; oss2 checks the CRC of the decoded bytes
    signed = bucket.sign_url("GET", "gz/page.txt", 60)
    raw = requests.get(signed, headers={"Accept-Encoding": "gzip"}, stream=True, timeout=10)
    body = raw.raw.read(decode_content=False)
    assert raw.headers["Transfer-Encoding"] == "chunked" and len(body) < len(text) // 5
    assert gzip.decompress(body) == text
    for key, headers in (("gz/photo.jpg", {"Accept-Encoding": "gzip"}),
                         ("gz/page.txt", {"Accept-Encoding": "gzip", "Range": "bytes=0-99"}),
                         ("gz/page.txt", {"Accept-Encoding": "identity"})):
        plain = requests.get(bucket.sign_url("GET", key, 60), headers=headers, stream=True, timeout=10)
        assert "Content-Encoding" not in plain.headers and "Content-Length" in plain.headers, (key, headers)
        plain.close()


def test_v4_presigned_url_needs_a_region(world):
    bucket = world["bucket"]
    bucket.put_object("v4/region.txt", b"r")
    cfg = ossv2.config.load_default()
    root = world["root"]
    cfg.credentials_provider = ossv2.credentials.StaticCredentialsProvider(root["AccessKeyId"], root["AccessKeySecret"])
    cfg.endpoint = world["server"].url
    cfg.region = "cn-hangzhou"
    signed = ossv2.Client(cfg).presign(ossv2.GetObjectRequest(bucket=BUCKET, key="v4/region.txt"))
    assert requests.get(signed.url, timeout=10).content == b"r"
    # The same URL with the region cut out of its credential scope is refused, whatever it signs.
    emptied = signed.url.replace("%2Fcn-hangzhou%2F", "%2F%2F")
    assert emptied != signed.url
    refused = requests.get(emptied, timeout=10)
    assert refused.status_code == 403 and "credential scope" in refused.text


def test_object_meta(world):
    """GetObjectMeta (`HEAD ?objectMeta`): ETag, size and CRC-64 without the rest."""
    bucket = world["bucket"]
    bucket.put_object("crc/new.bin", b"fresh")
    assert bucket.head_object("crc/new.bin").server_crc == crc64(b"fresh")
    meta = bucket.get_object_meta("crc/new.bin")
    assert meta.etag == hashlib.md5(b"fresh").hexdigest().upper() and meta.content_length == 5
    assert int(meta.headers["x-oss-hash-crc64ecma"]) == crc64(b"fresh")


def test_a_put_declaring_more_than_an_object_may_hold_is_refused_before_its_body(tmp_path):
    import base64
    import hmac
    import http.client

    server = Server(tmp_path / "data")
    try:
        root = json.loads((server.data / "root-credentials.json").read_text())
        bucket = oss2.Bucket(oss2.Auth(root["AccessKeyId"], root["AccessKeySecret"]), server.url, "big")
        bucket.create_bucket()
        # A signed PUT (OSS V1) that declares 6 GiB and sends nothing: answered at once, not waited on.
        date = oss2.utils.http_date()
        string_to_sign = f"PUT\n\napplication/octet-stream\n{date}\n/big/huge.bin"
        signature = base64.b64encode(hmac.new(root["AccessKeySecret"].encode(), string_to_sign.encode(), hashlib.sha1).digest())
        host, port = server.url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        began = time.monotonic()
        connection.putrequest("PUT", "/big/huge.bin")
        for name, value in {"Date": date, "Content-Length": str(6 * 1024 ** 3), "Content-Type": "application/octet-stream",
                            "Authorization": f"OSS {root['AccessKeyId']}:{signature.decode()}"}.items():
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        body = response.read().decode()
        assert time.monotonic() - began < 5
        assert response.status == 400 and "<Code>EntityTooLarge</Code>" in body, body
        assert not bucket.object_exists("huge.bin")
    finally:
        server.stop()
