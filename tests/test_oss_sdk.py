"""The object API through the official OSS SDKs (`oss2`, V1 signing; `alibabacloud-oss-v2`, V4
signing), with long-term and STS credentials, presigned URLs, and the seed's upload policy."""
import base64
import datetime
import hashlib

import alibabacloud_oss_v2 as ossv2
import oss2
import pytest
import requests
from alibabacloud_ram20150501 import models as ram_models
from alibabacloud_sts20150401 import models as sts_models
from alibabacloud_sts20150401.client import Client as StsClient

from alibaba import app_user, config, root_ram, seed_policies, seed_role, trust_policy
from conftest import Server, clean_env

BUCKET = "web-direct-upload"


@pytest.fixture(scope="module")
def world(tmp_path_factory, backend):
    """A server with the seed's identities, one role limited to uploads/ and one with full OSS access,
    on each backend (`conftest.backend`)."""
    data = tmp_path_factory.mktemp("oss") / "data"
    server = Server(data, env=clean_env(**backend.env))
    root, ram = root_ram(server)
    key = app_user(ram)
    roles = {"imm-web-upload": seed_role(ram, root["AccountId"], policies={
        "oss-web-upload": seed_policies(root["AccountId"])["oss-web-upload"]}).arn}
    roles["oss-admin"] = ram.create_role(ram_models.CreateRoleRequest(
        role_name="oss-admin", assume_role_policy_document=trust_policy(f"acs:ram::{root['AccountId']}:root"))).body.role.arn
    ram.attach_policy_to_role(ram_models.AttachPolicyToRoleRequest(
        policy_type="System", policy_name="AliyunOSSFullAccess", role_name="oss-admin"))
    sts = StsClient(config(server, key.access_key_id, key.access_key_secret))

    def credentials(role):
        return sts.assume_role(sts_models.AssumeRoleRequest(role_arn=roles[role], role_session_name="tests")).body.credentials

    oss2.Bucket(oss2.Auth(root["AccessKeyId"], root["AccessKeySecret"]), server.url, BUCKET).create_bucket()
    yield dict(server=server, root=root, credentials=credentials, sts=sts, roles=roles)
    server.stop()
    backend.check_data_directory(data)


def root_bucket(world, name=BUCKET):
    auth = oss2.Auth(world["root"]["AccessKeyId"], world["root"]["AccessKeySecret"])
    return oss2.Bucket(auth, world["server"].url, name)


def sts_bucket(world, role, auth_version="v1"):
    c = world["credentials"](role)
    auth = oss2.StsAuth(c.access_key_id, c.access_key_secret, c.security_token, auth_version=auth_version)
    return oss2.Bucket(auth, world["server"].url, BUCKET, region="cn-hangzhou")


def v2_client(world, role):
    c = world["credentials"](role)
    cfg = ossv2.config.load_default()
    cfg.credentials_provider = ossv2.credentials.StaticCredentialsProvider(c.access_key_id, c.access_key_secret, c.security_token)
    cfg.region = "cn-hangzhou"
    cfg.endpoint = world["server"].url
    return ossv2.Client(cfg)


def v2_error(call):
    with pytest.raises(Exception) as raised:
        call()
    error = raised.value
    while not hasattr(error, "code") and getattr(error, "unwrap", None):
        error = error.unwrap()
    return error.status_code, error.code


def test_buckets_and_objects_with_oss2(world):
    bucket = root_bucket(world)
    assert bucket.get_bucket_info().name == BUCKET
    second = root_bucket(world, "second-bucket")
    second.create_bucket()
    with pytest.raises(oss2.exceptions.ServerError) as raised:
        second.create_bucket()
    assert raised.value.code == "BucketAlreadyExists"
    service = oss2.Service(oss2.Auth(world["root"]["AccessKeyId"], world["root"]["AccessKeySecret"]), world["server"].url)
    assert [b.name for b in service.list_buckets().buckets] == ["second-bucket", BUCKET]
    second.delete_bucket()
    with pytest.raises(oss2.exceptions.NoSuchBucket):
        second.get_bucket_info()

    data = bytes(range(256)) * 40
    result = bucket.put_object("photos/2026/猫 cat+1.bin", data, headers={"x-oss-meta-camera": "X100", "Content-Type": "image/x-test"})
    assert result.etag == hashlib.md5(data).hexdigest().upper()
    got = bucket.get_object("photos/2026/猫 cat+1.bin")
    assert got.read() == data and got.headers["x-oss-meta-camera"] == "X100" and got.headers["Content-Type"] == "image/x-test"
    assert bucket.get_object("photos/2026/猫 cat+1.bin", byte_range=(10, 19)).read() == data[10:20]
    head = bucket.head_object("photos/2026/猫 cat+1.bin")
    assert head.content_length == len(data) and head.etag == result.etag
    with pytest.raises(oss2.exceptions.NotModified):
        bucket.get_object("photos/2026/猫 cat+1.bin", headers={"If-None-Match": f'"{result.etag}"'})
    with pytest.raises(oss2.exceptions.PreconditionFailed):
        bucket.get_object("photos/2026/猫 cat+1.bin", headers={"If-Match": '"0000"'})

    for name in ("photos/a.jpg", "photos/b.jpg", "docs/readme.txt", "top.txt"):
        bucket.put_object(name, b"x")
    listing = bucket.list_objects(prefix="", delimiter="/")
    assert [o.key for o in listing.object_list] == ["top.txt"] and listing.prefix_list == ["docs/", "photos/"]
    v2 = bucket.list_objects_v2(prefix="photos/", max_keys=2)
    assert [o.key for o in v2.object_list] == ["photos/2026/猫 cat+1.bin", "photos/a.jpg"] and v2.is_truncated
    rest = bucket.list_objects_v2(prefix="photos/", continuation_token=v2.next_continuation_token)
    assert [o.key for o in rest.object_list] == ["photos/b.jpg"] and not rest.is_truncated

    bucket.copy_object(BUCKET, "photos/a.jpg", "copies/a.jpg")
    assert bucket.get_object("copies/a.jpg").read() == b"x"
    bucket.copy_object(BUCKET, "photos/2026/猫 cat+1.bin", "copies/kept.bin")
    assert bucket.head_object("copies/kept.bin").headers["x-oss-meta-camera"] == "X100"
    bucket.copy_object(BUCKET, "photos/2026/猫 cat+1.bin", "copies/replaced.bin",
                       headers={"x-oss-metadata-directive": "REPLACE", "Content-Type": "text/x-replaced"})
    replaced = bucket.head_object("copies/replaced.bin")
    assert replaced.content_type == "text/x-replaced" and "x-oss-meta-camera" not in replaced.headers
    deleted = bucket.batch_delete_objects(["photos/a.jpg", "photos/b.jpg"])
    assert sorted(deleted.deleted_keys) == ["photos/a.jpg", "photos/b.jpg"]
    assert not bucket.object_exists("photos/a.jpg")
    bucket.delete_object("copies/a.jpg")
    with pytest.raises(oss2.exceptions.NoSuchKey):
        bucket.get_object("copies/a.jpg")
    with pytest.raises(oss2.exceptions.BucketNotEmpty):
        bucket.delete_bucket()
    # A hostile key is only a name: stored and listed back as sent, never a path.
    bucket.put_object("../../etc/passwd", b"not a file")
    assert bucket.get_object("../../etc/passwd").read() == b"not a file"


def test_bad_digest_and_bad_signature_leave_nothing(world):
    bucket = root_bucket(world)
    with pytest.raises(oss2.exceptions.InvalidDigest):
        bucket.put_object("uploads/digest.bin", b"payload", headers={"Content-MD5": base64.b64encode(hashlib.md5(b"other").digest()).decode()})
    assert not bucket.object_exists("uploads/digest.bin")
    wrong = oss2.Bucket(oss2.Auth(world["root"]["AccessKeyId"], "wrong-secret"), world["server"].url, BUCKET)
    with pytest.raises(oss2.exceptions.SignatureDoesNotMatch):
        wrong.put_object("uploads/x.bin", b"x")
    assert not bucket.object_exists("uploads/x.bin")
    anonymous = requests.get(f"{world['server'].url}/{BUCKET}/top.txt", timeout=10)
    assert anonymous.status_code == 403 and "<Code>AccessDenied</Code>" in anonymous.text


@pytest.mark.parametrize("auth_version", ["v1", "v4"])
def test_seed_policy_allows_uploads_only(world, auth_version):
    bucket = sts_bucket(world, "imm-web-upload", auth_version)
    bucket.put_object(f"uploads/photo-{auth_version}.jpg", b"jpeg bytes")
    with pytest.raises(oss2.exceptions.AccessDenied):
        bucket.put_object("elsewhere/photo.jpg", b"jpeg bytes")
    with pytest.raises(oss2.exceptions.AccessDenied):
        bucket.get_object(f"uploads/photo-{auth_version}.jpg")
    assert root_bucket(world).get_object(f"uploads/photo-{auth_version}.jpg").read() == b"jpeg bytes"
    assert not root_bucket(world).object_exists("elsewhere/photo.jpg")
    # Copying reads the source: a role that may only write cannot copy what it cannot read.
    root_bucket(world).put_object(f"private/secret-{auth_version}.txt", b"not for the upload role")
    with pytest.raises(oss2.exceptions.AccessDenied):
        bucket.copy_object(BUCKET, f"private/secret-{auth_version}.txt", f"uploads/stolen-{auth_version}.txt")
    assert not root_bucket(world).object_exists(f"uploads/stolen-{auth_version}.txt")


def test_presigned_urls(world):
    bucket = sts_bucket(world, "imm-web-upload")
    url = bucket.sign_url("PUT", "uploads/presigned-v1.txt", 600, headers={"Content-Type": "text/plain"})
    assert requests.put(url, data=b"v1 presigned", headers={"Content-Type": "text/plain"}, timeout=10).status_code == 200
    tampered = url.replace("presigned-v1", "presigned-v2")
    assert requests.put(tampered, data=b"x", headers={"Content-Type": "text/plain"}, timeout=10).status_code == 403
    expired = bucket.sign_url("PUT", "uploads/expired.txt", -10)
    assert requests.put(expired, data=b"x", timeout=10).status_code == 403
    client = v2_client(world, "oss-admin")
    signed = client.presign(ossv2.GetObjectRequest(bucket=BUCKET, key="uploads/presigned-v1.txt"),
                            expires=datetime.timedelta(minutes=5))
    assert requests.get(signed.url, headers=signed.signed_headers or {}, timeout=10).content == b"v1 presigned"
    upload = client.presign(ossv2.PutObjectRequest(bucket=BUCKET, key="uploads/presigned-v4.txt"),
                            expires=datetime.timedelta(minutes=5))
    assert requests.put(upload.url, data=b"v4 presigned", headers=upload.signed_headers or {}, timeout=10).status_code == 200
    assert root_bucket(world).get_object("uploads/presigned-v4.txt").read() == b"v4 presigned"


def test_objects_with_the_v2_sdk(world):
    client = v2_client(world, "oss-admin")
    put = client.put_object(ossv2.PutObjectRequest(bucket=BUCKET, key="v2/dir/file.txt", body=b"hello v2",
                                                   metadata={"origin": "sdk-v2"}))
    assert put.etag.strip('"') == hashlib.md5(b"hello v2").hexdigest().upper()
    got = client.get_object(ossv2.GetObjectRequest(bucket=BUCKET, key="v2/dir/file.txt"))
    assert got.body.read() == b"hello v2" and got.metadata.get("origin") == "sdk-v2"
    head = client.head_object(ossv2.HeadObjectRequest(bucket=BUCKET, key="v2/dir/file.txt"))
    assert head.content_length == 8
    listing = client.list_objects_v2(ossv2.ListObjectsV2Request(bucket=BUCKET, prefix="v2/", delimiter="/"))
    assert [p.prefix for p in listing.common_prefixes] == ["v2/dir/"]
    client.copy_object(ossv2.CopyObjectRequest(bucket=BUCKET, key="v2/copy.txt", source_bucket=BUCKET, source_key="v2/dir/file.txt"))
    assert client.get_object(ossv2.GetObjectRequest(bucket=BUCKET, key="v2/copy.txt")).body.read() == b"hello v2"
    client.delete_object(ossv2.DeleteObjectRequest(bucket=BUCKET, key="v2/copy.txt"))
    assert v2_error(lambda: client.get_object(ossv2.GetObjectRequest(bucket=BUCKET, key="v2/copy.txt"))) == (404, "NoSuchKey")
    limited = v2_client(world, "imm-web-upload")
    assert v2_error(lambda: limited.get_object(ossv2.GetObjectRequest(bucket=BUCKET, key="v2/dir/file.txt"))) == (403, "AccessDenied")


def test_cors_rules_and_preflight(world):
    bucket = root_bucket(world)
    with pytest.raises(oss2.exceptions.NoSuchCors):
        bucket.get_bucket_cors()
    url = f"{world['server'].url}/{BUCKET}/uploads/cors.jpg"
    preflight = {"Origin": "http://app.example", "Access-Control-Request-Method": "PUT",
                 "Access-Control-Request-Headers": "content-type, x-oss-security-token, authorization"}
    denied = requests.options(url, headers=preflight, timeout=10)
    assert denied.status_code == 403 and "Access-Control-Allow-Origin" not in denied.headers
    rule = oss2.models.CorsRule(allowed_origins=["http://*.example"], allowed_methods=["PUT", "GET"], allowed_headers=["*"],
                                expose_headers=["ETag", "x-oss-request-id"], max_age_seconds=600)
    bucket.put_bucket_cors(oss2.models.BucketCors([rule]))
    stored = bucket.get_bucket_cors().rules[0]
    assert stored.allowed_origins == ["http://*.example"] and stored.expose_headers == ["ETag", "x-oss-request-id"]
    allowed = requests.options(url, headers=preflight, timeout=10)
    assert allowed.status_code == 200 and allowed.headers["Access-Control-Allow-Origin"] == "http://app.example"
    assert "PUT" in allowed.headers["Access-Control-Allow-Methods"] and allowed.headers["Access-Control-Max-Age"] == "600"
    for other in ({**preflight, "Origin": "http://evil.test"}, {**preflight, "Access-Control-Request-Method": "DELETE"}):
        assert requests.options(url, headers=other, timeout=10).status_code == 403
    # Actual cross-origin responses, errors included, carry the headers the browser needs.
    error = requests.put(url, data=b"x", headers={"Origin": "http://app.example"}, timeout=10)
    assert error.status_code == 403 and error.headers["Access-Control-Allow-Origin"] == "http://app.example"
    assert "ETag" in error.headers["Access-Control-Expose-Headers"]
    bucket.delete_bucket_cors()
    assert requests.options(url, headers=preflight, timeout=10).status_code == 403


def test_multipart_upload(world, tmp_path):
    bucket = sts_bucket(world, "oss-admin")
    parts_data = [bytes([n]) * (150 * 1024) for n in range(1, 4)] + [b"tail"]
    upload_id = bucket.init_multipart_upload("big/file.bin").upload_id
    uploaded = [oss2.models.PartInfo(n + 1, bucket.upload_part("big/file.bin", upload_id, n + 1, data).etag)
                for n, data in enumerate(parts_data)]
    listed = bucket.list_parts("big/file.bin", upload_id).parts
    assert [p.part_number for p in listed] == [1, 2, 3, 4] and listed[0].size == 150 * 1024
    assert not bucket.object_exists("big/file.bin")  # nothing visible before completion
    bucket.complete_multipart_upload("big/file.bin", upload_id, uploaded)
    assert bucket.get_object("big/file.bin").read() == b"".join(parts_data)
    with pytest.raises(oss2.exceptions.NoSuchUpload):
        bucket.list_parts("big/file.bin", upload_id)
    # A wrong ETag, a part too small in the middle, and abort.
    second = bucket.init_multipart_upload("big/other.bin").upload_id
    small = bucket.upload_part("big/other.bin", second, 1, b"small").etag
    last = bucket.upload_part("big/other.bin", second, 2, b"last").etag
    with pytest.raises(oss2.exceptions.ServerError) as raised:
        bucket.complete_multipart_upload("big/other.bin", second, [oss2.models.PartInfo(1, small), oss2.models.PartInfo(2, last)])
    assert raised.value.code == "EntityTooSmall"
    with pytest.raises(oss2.exceptions.ServerError) as raised:
        bucket.complete_multipart_upload("big/other.bin", second, [oss2.models.PartInfo(1, "0" * 32)])
    assert raised.value.code == "InvalidPart"
    bucket.abort_multipart_upload("big/other.bin", second)
    with pytest.raises(oss2.exceptions.NoSuchUpload):
        bucket.upload_part("big/other.bin", second, 3, b"late")
    # oss2's resumable upload splits a file into parts itself.
    source = tmp_path / "resumable.bin"
    source.write_bytes(bytes(range(256)) * 4096)
    oss2.resumable_upload(bucket, "big/resumable.bin", str(source), multipart_threshold=200 * 1024, part_size=200 * 1024,
                          store=oss2.ResumableStore(root=str(tmp_path)))
    assert bucket.get_object("big/resumable.bin").read() == source.read_bytes()
    # The seed's upload role may send parts into uploads/ only.
    limited = sts_bucket(world, "imm-web-upload")
    assert limited.init_multipart_upload("uploads/multi.bin").upload_id
    with pytest.raises(oss2.exceptions.AccessDenied):
        limited.init_multipart_upload("elsewhere/multi.bin")


def test_session_policy_only_narrows(world):
    broad = '{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:*","Resource":"*"}]}'
    narrow = ('{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:PutObject",'
              f'"Resource":"acs:oss:*:*:{BUCKET}/uploads/narrow/*"}}]}}')
    sts = world["sts"]
    for policy, allowed, refused in ((broad, "uploads/broad.txt", "elsewhere/broad.txt"),
                                     (narrow, "uploads/narrow/ok.txt", "uploads/not-narrow.txt")):
        c = sts.assume_role(sts_models.AssumeRoleRequest(role_arn=world["roles"]["imm-web-upload"], role_session_name="narrowed",
                                                         policy=policy)).body.credentials
        bucket = oss2.Bucket(oss2.StsAuth(c.access_key_id, c.access_key_secret, c.security_token), world["server"].url, BUCKET)
        bucket.put_object(allowed, b"x")
        with pytest.raises(oss2.exceptions.AccessDenied):
            bucket.put_object(refused, b"x")
        with pytest.raises(oss2.exceptions.AccessDenied):
            bucket.get_object(allowed)
