"""The S3 API through boto3, botocore's signer and the AWS CLI, against the release binary: the same
buckets and objects as OSS, SigV4 in its header, presigned and chunked forms, STS credentials under
the seed's upload policy, and S3's error codes."""
import base64
import hashlib
import os
import subprocess
import sys
import time
import zlib
from pathlib import Path

import boto3.s3.transfer
import botocore.config
import botocore.exceptions
import oss2
import pytest
import requests
from alibabacloud_sts20150401 import models as sts_models
from alibabacloud_sts20150401.client import Client as StsClient

import s3
from alibaba import app_user, config, root_ram, seed_policies, seed_role
from conftest import Server, clean_env

BUCKET = "web-direct-upload"
AWS = Path(sys.executable).parent / "aws"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A server with the seed's identities: root credentials and the role limited to uploads/."""
    server = Server(tmp_path_factory.mktemp("s3") / "data")
    root, ram = root_ram(server)
    key = app_user(ram)
    role = seed_role(ram, root["AccountId"], policies={"oss-web-upload": seed_policies(root["AccountId"])["oss-web-upload"]})
    sts = StsClient(config(server, key.access_key_id, key.access_key_secret))

    def session():
        return sts.assume_role(sts_models.AssumeRoleRequest(role_arn=role.arn, role_session_name="s3-tests")).body.credentials

    client = s3.root_client(server, root)
    client.create_bucket(Bucket=BUCKET)
    yield dict(server=server, root=root, s3=client, session=session)
    server.stop()


def code_of(error):
    return error.value.response["Error"]["Code"], error.value.response["ResponseMetadata"]["HTTPStatusCode"]


def keys(client, bucket=BUCKET, prefix=""):
    return [o["Key"] for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for o in page.get("Contents", [])]


def round_trip(client, bucket):
    """The core object round trip: put, get, head, list (v1, v2, delimiter, pages), copy, delete."""
    put = client.put_object(Bucket=bucket, Key="docs/a b+c.txt", Body=b"hello s3", ContentType="text/plain",
                            Metadata={"origin": "boto3"}, ChecksumAlgorithm="SHA256")
    assert put["ETag"] == '"%s"' % hashlib.md5(b"hello s3").hexdigest()
    sha256 = base64.b64encode(hashlib.sha256(b"hello s3").digest()).decode()
    assert put["ChecksumSHA256"] == sha256
    # The checksum is kept: returned (and checked by boto3) when asked for.
    assert client.get_object(Bucket=bucket, Key="docs/a b+c.txt", ChecksumMode="ENABLED")["ChecksumSHA256"] == sha256
    assert client.head_object(Bucket=bucket, Key="docs/a b+c.txt", ChecksumMode="ENABLED")["ChecksumSHA256"] == sha256
    got = client.get_object(Bucket=bucket, Key="docs/a b+c.txt")
    assert got["Body"].read() == b"hello s3"
    assert got["ContentType"] == "text/plain" and got["Metadata"] == {"origin": "boto3"}
    assert got["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"]
    head = client.head_object(Bucket=bucket, Key="docs/a b+c.txt")
    assert head["ContentLength"] == 8 and head["ETag"] == put["ETag"]
    for index in range(7):
        client.put_object(Bucket=bucket, Key=f"list/{index // 3}/item-{index}", Body=b"x" * index)
    v2 = client.list_objects_v2(Bucket=bucket, Prefix="list/", Delimiter="/")
    assert [p["Prefix"] for p in v2["CommonPrefixes"]] == ["list/0/", "list/1/", "list/2/"] and v2["KeyCount"] == 3
    pages = list(client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="list/", PaginationConfig={"PageSize": 2}))
    assert len(pages) == 4 and [o["Key"] for p in pages for o in p.get("Contents", [])] == sorted(f"list/{i // 3}/item-{i}" for i in range(7))
    v1_pages = list(client.get_paginator("list_objects").paginate(Bucket=bucket, Prefix="list/", PaginationConfig={"PageSize": 3}))
    assert sum(len(p.get("Contents", [])) for p in v1_pages) == 7 and len(v1_pages) == 3
    v1 = client.list_objects(Bucket=bucket, Prefix="list/1/", Marker="list/1/item-3")
    assert [o["Key"] for o in v1["Contents"]] == ["list/1/item-4", "list/1/item-5"]
    # boto3 asks for url-encoded keys itself and decodes them; asked for explicitly, they come back encoded.
    assert [o["Key"] for o in client.list_objects_v2(Bucket=bucket, Prefix="docs/")["Contents"]] == ["docs/a b+c.txt"]
    encoded = client.list_objects_v2(Bucket=bucket, Prefix="docs/", EncodingType="url")
    assert [o["Key"] for o in encoded["Contents"]] == ["docs/a%20b%2Bc.txt"]
    copy = client.copy_object(Bucket=bucket, Key="docs/copy.txt", CopySource={"Bucket": bucket, "Key": "docs/a b+c.txt"})
    assert copy["CopyObjectResult"]["ETag"] == put["ETag"]
    assert client.get_object(Bucket=bucket, Key="docs/copy.txt")["Metadata"] == {"origin": "boto3"}
    client.delete_object(Bucket=bucket, Key="docs/copy.txt")
    with pytest.raises(botocore.exceptions.ClientError) as error:
        client.get_object(Bucket=bucket, Key="docs/copy.txt")
    assert code_of(error) == ("NoSuchKey", 404)
    deleted = client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": f"list/{i // 3}/item-{i}"} for i in range(7)]})
    assert len(deleted["Deleted"]) == 7
    assert keys(client, bucket, "list/") == []


def test_round_trip_with_boto3(world):
    round_trip(world["s3"], BUCKET)


def test_round_trip_on_postgresql(tmp_path, postgres_database):
    server = Server(tmp_path / "data", env=clean_env(VISAGE_DATABASE_URL=postgres_database))
    try:
        root, _ = root_ram(server)
        client = s3.root_client(server, root)
        client.create_bucket(Bucket="pg-bucket")
        round_trip(client, "pg-bucket")
        assert [b["Name"] for b in client.list_buckets()["Buckets"]] == ["pg-bucket"]
    finally:
        server.stop()


def test_buckets_and_errors(world):
    client = world["s3"]
    client.create_bucket(Bucket="scratch-bucket")
    assert "scratch-bucket" in [b["Name"] for b in client.list_buckets()["Buckets"]]
    client.head_bucket(Bucket="scratch-bucket")
    assert client.get_bucket_location(Bucket="scratch-bucket")["LocationConstraint"] is None
    with pytest.raises(botocore.exceptions.ClientError) as error:
        client.create_bucket(Bucket="scratch-bucket")
    assert code_of(error) == ("BucketAlreadyOwnedByYou", 409)
    client.put_object(Bucket="scratch-bucket", Key="k", Body=b"1")
    with pytest.raises(botocore.exceptions.ClientError) as error:
        client.delete_bucket(Bucket="scratch-bucket")
    assert code_of(error) == ("BucketNotEmpty", 409)
    client.delete_object(Bucket="scratch-bucket", Key="k")
    client.delete_bucket(Bucket="scratch-bucket")
    with pytest.raises(botocore.exceptions.ClientError) as error:
        client.list_objects_v2(Bucket="scratch-bucket")
    assert code_of(error) == ("NoSuchBucket", 404)
    with pytest.raises(botocore.exceptions.ClientError) as error:
        client.head_bucket(Bucket="scratch-bucket")
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    wrong = s3.client(world["server"], world["root"]["AccessKeyId"], "not-the-secret")
    with pytest.raises(botocore.exceptions.ClientError) as error:
        wrong.put_object(Bucket=BUCKET, Key="nope", Body=b"x")
    assert code_of(error) == ("SignatureDoesNotMatch", 403)
    unknown = s3.client(world["server"], "LTAIunknownkey000000", "secret")
    with pytest.raises(botocore.exceptions.ClientError) as error:
        unknown.list_buckets()
    assert code_of(error) == ("InvalidAccessKeyId", 403)
    assert error.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"]
    assert "nope" not in keys(client)


def test_ranges_conditions_and_overrides(world):
    client = world["s3"]
    data = bytes(range(256)) * 4
    etag = client.put_object(Bucket=BUCKET, Key="range.bin", Body=data)["ETag"]
    assert client.get_object(Bucket=BUCKET, Key="range.bin", Range="bytes=10-19")["Body"].read() == data[10:20]
    assert client.get_object(Bucket=BUCKET, Key="range.bin", Range="bytes=-5")["Body"].read() == data[-5:]
    with pytest.raises(botocore.exceptions.ClientError) as error:
        client.get_object(Bucket=BUCKET, Key="range.bin", Range="bytes=5000-6000")
    assert code_of(error) == ("InvalidRange", 416)
    with pytest.raises(botocore.exceptions.ClientError) as error:
        client.get_object(Bucket=BUCKET, Key="range.bin", IfMatch='"0123"')
    assert code_of(error) == ("PreconditionFailed", 412)
    with pytest.raises(botocore.exceptions.ClientError) as error:
        client.get_object(Bucket=BUCKET, Key="range.bin", IfNoneMatch=etag)
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    assert client.get_object(Bucket=BUCKET, Key="range.bin", IfMatch=etag)["Body"].read() == data
    overridden = client.get_object(Bucket=BUCKET, Key="range.bin", ResponseContentType="image/png",
                                   ResponseContentDisposition="attachment; filename=x.png")
    assert overridden["ContentType"] == "image/png" and overridden["ContentDisposition"] == "attachment; filename=x.png"


def test_checksums_are_verified(world):
    client = world["s3"]
    data = b"checked bytes"
    crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    put = client.put_object(Bucket=BUCKET, Key="sums/crc32", Body=data, ChecksumAlgorithm="CRC32")
    assert put["ChecksumCRC32"] == crc
    for algorithm in ("SHA1", "SHA256"):
        assert "Checksum" + algorithm in client.put_object(Bucket=BUCKET, Key=f"sums/{algorithm}", Body=data, ChecksumAlgorithm=algorithm)
    # botocore computes CRC32C only with the CRT; the header is the same shape.
    root = s3.credentials(world["root"]["AccessKeyId"], world["root"]["AccessKeySecret"])
    crc32c = base64.b64encode(crc32c_of(data).to_bytes(4, "big")).decode()
    response = s3.send(s3.signed(world["server"], "PUT", f"/{BUCKET}/sums/CRC32C", root, body=data,
                                 headers={"x-amz-checksum-crc32c": crc32c}))
    assert response.status_code == 200 and response.headers["x-amz-checksum-crc32c"] == crc32c
    wrong = s3.send(s3.signed(world["server"], "PUT", f"/{BUCKET}/sums/CRC32C-wrong", root, body=data,
                              headers={"x-amz-checksum-crc32c": "AAAAAA=="}))
    assert wrong.status_code == 400 and b"BadDigest" in wrong.content
    with pytest.raises(botocore.exceptions.ClientError) as error:
        client.put_object(Bucket=BUCKET, Key="sums/wrong", Body=data, ChecksumCRC32="AAAAAA==")
    assert code_of(error) == ("BadDigest", 400)
    with pytest.raises(botocore.exceptions.ClientError) as error:
        client.put_object(Bucket=BUCKET, Key="sums/wrong", Body=data, ContentMD5=base64.b64encode(hashlib.md5(b"other").digest()).decode())
    assert code_of(error) == ("BadDigest", 400)
    assert keys(client, prefix="sums/") == ["sums/CRC32C", "sums/SHA1", "sums/SHA256", "sums/crc32"]


def crc32c_of(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def test_streaming_uploads(world):
    """STREAMING-AWS4-HMAC-SHA256-PAYLOAD with chained chunk signatures, and the unsigned trailer form."""
    root = s3.credentials(world["root"]["AccessKeyId"], world["root"]["AccessKeySecret"])
    data = os.urandom(200_000)
    response = s3.send(s3.streaming_put(world["server"], f"/{BUCKET}/stream/good", root, data))
    assert response.status_code == 200, response.text
    assert world["s3"].get_object(Bucket=BUCKET, Key="stream/good")["Body"].read() == data
    method, url, headers, body, _ = s3.streaming_put(world["server"], f"/{BUCKET}/stream/bad", root, data)
    # The second chunk's signature, one hex digit changed: the first chunk has been read by then.
    index = body.index(b"chunk-signature=", body.index(b"chunk-signature=") + 1) + 16
    tampered = body[:index] + (b"1" if body[index:index + 1] == b"0" else b"0") + body[index + 1:]
    bad = requests.request(method, url, headers=headers, data=tampered, timeout=30)
    assert bad.status_code == 403 and b"SignatureDoesNotMatch" in bad.content
    crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    response = s3.send(s3.trailer_put(world["server"], f"/{BUCKET}/stream/trailer", root, data, crc))
    assert response.status_code == 200, response.text
    assert response.headers["x-amz-checksum-crc32"] == crc
    wrong = s3.send(s3.trailer_put(world["server"], f"/{BUCKET}/stream/trailer-wrong", root, data, "AAAAAA=="))
    assert wrong.status_code == 400 and b"BadDigest" in wrong.content
    assert keys(world["s3"], prefix="stream/") == ["stream/good", "stream/trailer"]


def test_multipart_upload_file_and_download(world, tmp_path):
    client = world["s3"]
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(50 * 1024 * 1024))
    transfer = boto3.s3.transfer.TransferConfig(multipart_threshold=8 * 1024 * 1024, multipart_chunksize=8 * 1024 * 1024,
                                                max_concurrency=4)
    client.upload_file(str(source), BUCKET, "big/upload.bin", Config=transfer)
    head = client.head_object(Bucket=BUCKET, Key="big/upload.bin")
    assert head["ContentLength"] == 50 * 1024 * 1024 and head["ETag"].endswith('-7"')
    digests = b"".join(hashlib.md5(chunk).digest() for chunk in iter(
        lambda f=source.open("rb"): f.read(8 * 1024 * 1024), b""))
    assert head["ETag"] == '"%s-7"' % hashlib.md5(digests).hexdigest()
    target = tmp_path / "back.bin"
    client.download_file(BUCKET, "big/upload.bin", str(target), Config=transfer)
    assert target.read_bytes() == source.read_bytes()


def test_multipart_operations(world):
    client = world["s3"]
    upload = client.create_multipart_upload(Bucket=BUCKET, Key="mp/object", ContentType="application/x-test")["UploadId"]
    assert [u["UploadId"] for u in client.list_multipart_uploads(Bucket=BUCKET, Prefix="mp/")["Uploads"]] == [upload]
    part1 = client.upload_part(Bucket=BUCKET, Key="mp/object", UploadId=upload, PartNumber=1, Body=b"a" * (5 * 1024 * 1024))
    client.put_object(Bucket=BUCKET, Key="mp/source", Body=b"0123456789")
    part2 = client.upload_part_copy(Bucket=BUCKET, Key="mp/object", UploadId=upload, PartNumber=2,
                                    CopySource={"Bucket": BUCKET, "Key": "mp/source"}, CopySourceRange="bytes=2-5")
    parts = client.list_parts(Bucket=BUCKET, Key="mp/object", UploadId=upload)["Parts"]
    assert [(p["PartNumber"], p["Size"]) for p in parts] == [(1, 5 * 1024 * 1024), (2, 4)]
    with pytest.raises(botocore.exceptions.ClientError) as error:
        client.complete_multipart_upload(Bucket=BUCKET, Key="mp/object", UploadId=upload, MultipartUpload={"Parts": [
            {"PartNumber": 1, "ETag": part1["ETag"]}, {"PartNumber": 1, "ETag": part1["ETag"]}]})
    assert code_of(error) == ("InvalidPartOrder", 400)
    with pytest.raises(botocore.exceptions.ClientError) as error:
        client.complete_multipart_upload(Bucket=BUCKET, Key="mp/object", UploadId=upload, MultipartUpload={"Parts": [
            {"PartNumber": 1, "ETag": '"00000000000000000000000000000000"'}]})
    assert code_of(error) == ("InvalidPart", 400)
    done = client.complete_multipart_upload(Bucket=BUCKET, Key="mp/object", UploadId=upload, MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": part1["ETag"]}, {"PartNumber": 2, "ETag": part2["CopyPartResult"]["ETag"]}]})
    assert done["ETag"].endswith('-2"')
    assert client.get_object(Bucket=BUCKET, Key="mp/object", Range="bytes=5242878-")["Body"].read() == b"aa2345"
    small = client.create_multipart_upload(Bucket=BUCKET, Key="mp/small")["UploadId"]
    first = client.upload_part(Bucket=BUCKET, Key="mp/small", UploadId=small, PartNumber=1, Body=b"tiny")
    second = client.upload_part(Bucket=BUCKET, Key="mp/small", UploadId=small, PartNumber=2, Body=b"tail")
    with pytest.raises(botocore.exceptions.ClientError) as error:
        client.complete_multipart_upload(Bucket=BUCKET, Key="mp/small", UploadId=small, MultipartUpload={"Parts": [
            {"PartNumber": 1, "ETag": first["ETag"]}, {"PartNumber": 2, "ETag": second["ETag"]}]})
    assert code_of(error) == ("EntityTooSmall", 400)
    client.abort_multipart_upload(Bucket=BUCKET, Key="mp/small", UploadId=small)
    with pytest.raises(botocore.exceptions.ClientError) as error:
        client.list_parts(Bucket=BUCKET, Key="mp/small", UploadId=small)
    assert code_of(error) == ("NoSuchUpload", 404)


def test_presigned_urls(world):
    client = world["s3"]
    client.put_object(Bucket=BUCKET, Key="shared/photo.jpg", Body=b"jpeg")
    url = client.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "shared/photo.jpg"}, ExpiresIn=300)
    assert requests.get(url, timeout=10).content == b"jpeg"
    other = url.replace("shared/photo.jpg", "shared/other.jpg")
    assert requests.get(other, timeout=10).status_code == 403
    signature = url.rsplit("X-Amz-Signature=", 1)[1]
    forged = url.replace(signature, ("0" if signature[0] != "0" else "1") + signature[1:])
    response = requests.get(forged, timeout=10)
    assert response.status_code == 403 and b"SignatureDoesNotMatch" in response.content
    put_url = client.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": "shared/upload.bin"}, ExpiresIn=300)
    assert requests.put(put_url, data=b"from a browser", timeout=10).status_code == 200
    assert client.get_object(Bucket=BUCKET, Key="shared/upload.bin")["Body"].read() == b"from a browser"
    tampered = put_url.replace("shared/upload.bin", "shared/tampered.bin")
    assert requests.put(tampered, data=b"x", timeout=10).status_code == 403
    short = client.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": "shared/late.bin"}, ExpiresIn=1)
    short_get = client.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "shared/photo.jpg"}, ExpiresIn=1)
    time.sleep(2.1)
    expired = requests.put(short, data=b"late", timeout=10)
    assert expired.status_code == 403 and b"expired" in expired.content
    assert requests.get(short_get, timeout=10).status_code == 403
    assert keys(client, prefix="shared/") == ["shared/photo.jpg", "shared/upload.bin"]


def test_objects_cross_between_oss_and_s3(world):
    root = world["root"]
    bucket = oss2.Bucket(oss2.Auth(root["AccessKeyId"], root["AccessKeySecret"]), world["server"].url, BUCKET)
    data = os.urandom(4096)
    oss_etag = bucket.put_object("cross/from-oss", data).etag
    got = world["s3"].get_object(Bucket=BUCKET, Key="cross/from-oss")
    assert got["Body"].read() == data and got["ETag"].strip('"') == oss_etag.lower()
    s3_etag = world["s3"].put_object(Bucket=BUCKET, Key="cross/from-s3", Body=data[::-1])["ETag"]
    read = bucket.get_object("cross/from-s3")
    assert read.read() == data[::-1] and read.etag.lower() == s3_etag.strip('"')


def test_sts_credentials_under_the_seed_policy(world):
    c = world["session"]()
    client = s3.client(world["server"], c.access_key_id, c.access_key_secret, c.security_token)
    client.put_object(Bucket=BUCKET, Key="uploads/photo.jpg", Body=b"jpeg bytes")
    for call in (lambda: client.get_object(Bucket=BUCKET, Key="uploads/photo.jpg"),
                 lambda: client.put_object(Bucket=BUCKET, Key="elsewhere/photo.jpg", Body=b"jpeg bytes"),
                 lambda: client.list_objects_v2(Bucket=BUCKET),
                 lambda: client.delete_object(Bucket=BUCKET, Key="uploads/photo.jpg")):
        with pytest.raises(botocore.exceptions.ClientError) as error:
            call()
        assert code_of(error) == ("AccessDenied", 403)
    assert world["s3"].get_object(Bucket=BUCKET, Key="uploads/photo.jpg")["Body"].read() == b"jpeg bytes"
    assert "elsewhere/photo.jpg" not in keys(world["s3"])
    # The browser's way: a URL presigned with the session's credentials (the token rides in the query).
    put_url = client.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": "uploads/browser.jpg"}, ExpiresIn=300)
    assert "X-Amz-Security-Token=" in put_url
    assert requests.put(put_url, data=b"from the page", timeout=10).status_code == 200
    get_url = client.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "uploads/browser.jpg"}, ExpiresIn=300)
    assert requests.get(get_url, timeout=10).status_code == 403
    elsewhere = client.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": "elsewhere/browser.jpg"}, ExpiresIn=300)
    assert requests.put(elsewhere, data=b"x", timeout=10).status_code == 403
    assert world["s3"].get_object(Bucket=BUCKET, Key="uploads/browser.jpg")["Body"].read() == b"from the page"
    forged = s3.client(world["server"], c.access_key_id, c.access_key_secret, c.security_token[:-4] + "AAAA")
    with pytest.raises(botocore.exceptions.ClientError) as error:
        forged.put_object(Bucket=BUCKET, Key="uploads/forged.jpg", Body=b"x")
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] in (400, 403)


def test_unknown_subresources_answer_501_and_change_nothing(world):
    client = world["s3"]
    client.put_object(Bucket=BUCKET, Key="sub/object", Body=b"untouched")
    with pytest.raises(botocore.exceptions.ClientError) as error:
        client.put_object_tagging(Bucket=BUCKET, Key="sub/object", Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})
    assert code_of(error) == ("NotImplemented", 501)
    with pytest.raises(botocore.exceptions.ClientError) as error:
        client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    assert code_of(error) == ("NotImplemented", 501)
    with pytest.raises(botocore.exceptions.ClientError) as error:
        client.put_object_acl(Bucket=BUCKET, Key="sub/object", ACL="public-read")
    assert code_of(error) == ("NotImplemented", 501)
    root = world["root"]
    bucket = oss2.Bucket(oss2.Auth(root["AccessKeyId"], root["AccessKeySecret"]), world["server"].url, BUCKET)
    assert bucket.get_object_tagging("sub/object").tag_set.tagging_rule == {}
    assert bucket.get_object_acl("sub/object").acl == "default"
    assert client.get_object(Bucket=BUCKET, Key="sub/object")["Body"].read() == b"untouched"


def test_cors_rules_and_preflight(world):
    client = world["s3"]
    client.put_bucket_cors(Bucket=BUCKET, CORSConfiguration={"CORSRules": [{
        "AllowedOrigins": ["https://app.example"], "AllowedMethods": ["PUT", "GET"], "AllowedHeaders": ["*"],
        "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 600}]})
    rules = client.get_bucket_cors(Bucket=BUCKET)["CORSRules"]
    assert rules[0]["AllowedOrigins"] == ["https://app.example"] and rules[0]["MaxAgeSeconds"] == 600
    preflight = requests.options(f"{world['server'].url}/{BUCKET}/uploads/x.jpg", headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "content-type,x-amz-date,authorization"}, timeout=10)
    assert preflight.status_code == 200 and preflight.headers["Access-Control-Allow-Origin"] == "https://app.example"
    refused = requests.options(f"{world['server'].url}/{BUCKET}/x", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "PUT"}, timeout=10)
    assert refused.status_code == 403
    client.delete_bucket_cors(Bucket=BUCKET)
    with pytest.raises(botocore.exceptions.ClientError) as error:
        client.get_bucket_cors(Bucket=BUCKET)
    assert code_of(error) == ("NoSuchCORSConfiguration", 404)


def test_clock_skew(world, monkeypatch):
    import datetime

    import botocore.auth
    skewed = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(minutes=20)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: skewed)
    with pytest.raises(botocore.exceptions.ClientError) as error:
        world["s3"].put_object(Bucket=BUCKET, Key="skewed", Body=b"x")
    assert code_of(error) == ("RequestTimeTooSkewed", 403)
    monkeypatch.undo()
    assert "skewed" not in keys(world["s3"])


def test_aws_cli(world, tmp_path):
    env = clean_env(AWS_ACCESS_KEY_ID=world["root"]["AccessKeyId"], AWS_SECRET_ACCESS_KEY=world["root"]["AccessKeySecret"],
                    AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE=str(tmp_path / "none"),
                    AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"), NO_PROXY="127.0.0.1,localhost")

    def aws(*args):
        result = subprocess.run([str(AWS), "--endpoint-url", world["server"].url, "s3", *args], env=env, capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        return result.stdout

    source = tmp_path / "cli.bin"
    source.write_bytes(os.urandom(12 * 1024 * 1024))
    aws("cp", str(source), f"s3://{BUCKET}/cli/one.bin")
    aws("cp", f"s3://{BUCKET}/cli/one.bin", str(tmp_path / "back.bin"))
    assert (tmp_path / "back.bin").read_bytes() == source.read_bytes()
    folder = tmp_path / "folder"
    (folder / "nested").mkdir(parents=True)
    for name in ("a.txt", "b.txt", "nested/c.txt"):
        (folder / name).write_text(name)
        # Written a minute before the upload: listings give times in whole seconds, as S3's do.
        os.utime(folder / name, (time.time() - 60, time.time() - 60))
    aws("sync", str(folder), f"s3://{BUCKET}/cli/sync/")
    listing = aws("ls", "--recursive", f"s3://{BUCKET}/cli/")
    for name in ("cli/one.bin", "cli/sync/a.txt", "cli/sync/b.txt", "cli/sync/nested/c.txt"):
        assert name in listing
    assert "PRE sync/" in aws("ls", f"s3://{BUCKET}/cli/")
    assert BUCKET in aws("ls")
    # A second sync finds nothing to copy.
    assert aws("sync", str(folder), f"s3://{BUCKET}/cli/sync/").strip() == ""
    back = tmp_path / "back"
    aws("sync", f"s3://{BUCKET}/cli/sync/", str(back))
    assert (back / "nested" / "c.txt").read_text() == "nested/c.txt"


def test_virtual_host_style(tmp_path):
    """With a base domain, `bucket.DOMAIN/key` names the bucket in the host (signed for that host)."""
    server = Server(tmp_path / "data", args=("--s3-domain", "s3.test"))
    try:
        root, _ = root_ram(server)
        s3.root_client(server, root).create_bucket(Bucket="hosted")
        credentials = s3.credentials(root["AccessKeyId"], root["AccessKeySecret"])
        port = server.url.rsplit(":", 1)[1]

        def hosted(method, path, query=None, body=b""):
            virtual = type("Virtual", (), {"url": f"http://hosted.s3.test:{port}"})()
            method, url, headers, body, _ = s3.signed(virtual, method, path, credentials, query=query, body=body)
            return requests.request(method, url.replace(f"hosted.s3.test:{port}", f"127.0.0.1:{port}"),
                                    headers=dict(headers, Host=f"hosted.s3.test:{port}"), data=body, timeout=10)

        assert hosted("PUT", "/photos/a.jpg", body=b"virtual").status_code == 200
        assert hosted("GET", "/photos/a.jpg").content == b"virtual"
        listing = hosted("GET", "/", query={"list-type": "2"})
        assert listing.status_code == 200 and b"<Key>photos/a.jpg</Key>" in listing.content
        # The same object, path-style.
        assert s3.root_client(server, root).get_object(Bucket="hosted", Key="photos/a.jpg")["Body"].read() == b"virtual"
    finally:
        server.stop()


def test_signature_version_2(world):
    """boto3's default presigned URLs (Signature Version 2) and V2-signed requests; V2 signs no body."""
    root = world["root"]
    legacy = boto3.client("s3", endpoint_url=world["server"].url, region_name="us-east-1", aws_access_key_id=root["AccessKeyId"],
                          aws_secret_access_key=root["AccessKeySecret"],
                          config=botocore.config.Config(signature_version="s3", s3={"addressing_style": "path"}))
    legacy.put_object(Bucket=BUCKET, Key="v2/object", Body=b"version two")
    assert legacy.get_object(Bucket=BUCKET, Key="v2/object")["Body"].read() == b"version two"
    assert [o["Key"] for o in legacy.list_objects(Bucket=BUCKET, Prefix="v2/")["Contents"]] == ["v2/object"]
    default = boto3.client("s3", endpoint_url=world["server"].url, region_name="us-east-1", aws_access_key_id=root["AccessKeyId"],
                           aws_secret_access_key=root["AccessKeySecret"])
    url = default.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "v2/object"}, ExpiresIn=300)
    assert "AWSAccessKeyId=" in url and requests.get(url, timeout=10).content == b"version two"
    assert requests.get(url.replace("v2/object", "v2/other"), timeout=10).status_code == 403
    put_url = default.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": "v2/put"}, ExpiresIn=300)
    assert requests.put(put_url, data=b"put", timeout=10).status_code == 200
    assert requests.put(put_url.replace("v2/put", "v2/stolen"), data=b"x", timeout=10).status_code == 403
    expires = int(url.split("Expires=")[1].split("&")[0])
    assert requests.get(url.replace(f"Expires={expires}", f"Expires={expires + 1}"), timeout=10).status_code == 403
    short = default.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": "v2/late"}, ExpiresIn=1)
    time.sleep(2.1)
    assert requests.put(short, data=b"late", timeout=10).status_code == 403
    # STS credentials: the token travels in the query, and the seed policy still holds.
    c = world["session"]()
    session = boto3.client("s3", endpoint_url=world["server"].url, region_name="us-east-1", aws_access_key_id=c.access_key_id,
                           aws_secret_access_key=c.access_key_secret, aws_session_token=c.security_token)
    upload = session.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": "uploads/v2.jpg"}, ExpiresIn=300)
    assert requests.put(upload, data=b"jpeg", timeout=10).status_code == 200
    read = session.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "uploads/v2.jpg"}, ExpiresIn=300)
    assert requests.get(read, timeout=10).status_code == 403
    assert keys(world["s3"], prefix="v2/") == ["v2/object", "v2/put"]
