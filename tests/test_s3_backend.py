"""Object bytes in an S3-compatible server (moto on loopback) with the catalog in PostgreSQL:
streaming and multipart writes, ranged reads, copies made by the S3 server, the health check,
the sweeper, and what clients see while the S3 server refuses writes or is down."""
import hashlib
import json
import os
import time

import boto3
import oss2
import pytest
from botocore.config import Config
from alibabacloud_imm20200930 import models as imm_models
from alibabacloud_imm20200930.client import Client as ImmClient

from alibaba import config
from conftest import ROOT, Server, clean_env, run_cli
from s3backend import FaultProxy, KEY_ID, SECRET, new_bucket, s3_env

PHOTO = ROOT.parent / "shared" / "testdata" / "faces" / "img1.jpg"


def visage_s3(server, root):
    """boto3 talking to Visage's own S3 API."""
    return boto3.client("s3", endpoint_url=server.url, region_name="us-east-1", aws_access_key_id=root["AccessKeyId"],
                        aws_secret_access_key=root["AccessKeySecret"],
                        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1, "mode": "standard"}))


def root_of(server):
    return json.loads((server.data / "root-credentials.json").read_text())


@pytest.fixture
def bucket_name(moto_server, request):
    return new_bucket(moto_server, "visage-" + request.node.name.replace("_", "-")[:40].lower().strip("-") + "-%d" % time.monotonic_ns())


def local_files(data):
    folder = data / "objects"
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def test_bytes_live_in_the_s3_server(tmp_path, postgres_database, moto_server, bucket_name):
    env = clean_env(VISAGE_DATABASE_URL=postgres_database, VISAGE_S3_PART_MIB="5", **s3_env(moto_server.url, bucket_name))
    server = Server(tmp_path / "data", env=env)
    try:
        health = server.get("/healthz").json()
        assert health["objectStore"] == "s3" and health["objectStoreReachable"] and health["databaseReachable"]
        s3 = visage_s3(server, root_of(server))
        s3.create_bucket(Bucket="photos")
        small = os.urandom(1000)
        s3.put_object(Bucket="photos", Key="small.bin", Body=small)
        # 12 MiB: more than two backend parts of 5 MiB, streamed as a multipart upload to the S3 server.
        large = os.urandom(12 * 1024 * 1024 + 17)
        put = s3.put_object(Bucket="photos", Key="dir/large.bin", Body=large)
        assert put["ETag"].strip('"') == hashlib.md5(large).hexdigest()
        blobs = moto_server.keys(bucket_name, "blobs/")
        assert len(blobs) == 2
        sizes = sorted(moto_server.client().head_object(Bucket=bucket_name, Key=k)["ContentLength"] for k in blobs)
        assert sizes == [len(small), len(large)]

        assert s3.get_object(Bucket="photos", Key="dir/large.bin")["Body"].read() == large
        ranged = s3.get_object(Bucket="photos", Key="dir/large.bin", Range="bytes=5242870-5242900")
        assert ranged["ContentRange"] == f"bytes 5242870-5242900/{len(large)}"
        assert ranged["Body"].read() == large[5242870:5242901]
        assert s3.get_object(Bucket="photos", Key="dir/large.bin", Range="bytes=-10")["Body"].read() == large[-10:]

        # A copy is made by the S3 server: a new blob with the same bytes and ETag.
        s3.copy_object(Bucket="photos", Key="copy.bin", CopySource={"Bucket": "photos", "Key": "dir/large.bin"})
        assert len(moto_server.keys(bucket_name, "blobs/")) == 3
        copied = s3.get_object(Bucket="photos", Key="copy.bin")
        assert copied["ETag"] == put["ETag"] and copied["Body"].read() == large

        # A client's multipart upload: each part is a blob in the S3 server until completion.
        upload = s3.create_multipart_upload(Bucket="photos", Key="parts.bin")["UploadId"]
        chunks = [os.urandom(5 * 1024 * 1024), os.urandom(1234)]
        etags = [s3.upload_part(Bucket="photos", Key="parts.bin", UploadId=upload, PartNumber=n + 1, Body=c)["ETag"]
                 for n, c in enumerate(chunks)]
        assert len(moto_server.keys(bucket_name, "blobs/")) == 5
        s3.complete_multipart_upload(Bucket="photos", Key="parts.bin", UploadId=upload, MultipartUpload={
            "Parts": [{"PartNumber": n + 1, "ETag": e} for n, e in enumerate(etags)]})
        assert s3.get_object(Bucket="photos", Key="parts.bin")["Body"].read() == b"".join(chunks)
        # The parts' blobs are gone; the assembled object is one blob.
        assert len(moto_server.keys(bucket_name, "blobs/")) == 4

        for key in ("small.bin", "dir/large.bin", "copy.bin", "parts.bin"):
            s3.delete_object(Bucket="photos", Key=key)
        assert moto_server.keys(bucket_name, "blobs/") == []
        assert local_files(server.data) == []
    finally:
        server.stop()


def test_sweep_removes_bytes_no_catalog_row_refers_to(tmp_path, postgres_database, moto_server, bucket_name):
    env = clean_env(VISAGE_DATABASE_URL=postgres_database, VISAGE_S3_SWEEP_GRACE_SECONDS="0",
                    **s3_env(moto_server.url, bucket_name))
    server = Server(tmp_path / "data", env=env)
    try:
        s3 = visage_s3(server, root_of(server))
        s3.create_bucket(Bucket="kept")
        s3.put_object(Bucket="kept", Key="a.txt", Body=b"referenced")
        # Bytes whose catalog write never happened (a process that died between the two).
        moto_server.client().put_object(Bucket=bucket_name, Key="blobs/0123456789abcdef0123456789abcdef", Body=b"orphan")
        # Outside the prefix: not the sweeper's.
        moto_server.client().put_object(Bucket=bucket_name, Key="elsewhere/file", Body=b"other")
        time.sleep(1.1)
        swept = run_cli("sweep", data=server.data, env=env)
        assert swept.stdout.decode().strip() == "removed 1 unreferenced blob"
        assert len(moto_server.keys(bucket_name, "blobs/")) == 1
        assert moto_server.keys(bucket_name, "elsewhere/") == ["elsewhere/file"]
        assert s3.get_object(Bucket="kept", Key="a.txt")["Body"].read() == b"referenced"
    finally:
        server.stop()


def test_refused_writes_and_a_stopped_server_give_retryable_errors(tmp_path, postgres_database, moto_server, bucket_name):
    proxy = FaultProxy(moto_server.port)
    env = clean_env(VISAGE_DATABASE_URL=postgres_database, VISAGE_TASK_RETRY_SECONDS="1", VISAGE_WORKERS="1",
                    **s3_env(proxy.url, bucket_name))
    server = Server(tmp_path / "data", env=env)
    try:
        root = root_of(server)
        bucket = oss2.Bucket(oss2.Auth(root["AccessKeyId"], root["AccessKeySecret"]), server.url, "photos")
        bucket.create_bucket()
        bucket.put_object("before.txt", b"stored before the fault")

        # The S3 server refuses writes: the upload answers 503, and nothing of it is visible.
        proxy.mode = "refuse"
        with pytest.raises(oss2.exceptions.ServerError) as refused:
            bucket.put_object("during.txt", b"x" * 5000)
        assert refused.value.status == 503 and refused.value.code == "ServiceUnavailable"
        assert proxy.refused >= 2, "the backend write was not retried"
        with pytest.raises(oss2.exceptions.NoSuchKey):
            bucket.head_object("during.txt")
        assert [o.key for o in oss2.ObjectIterator(bucket)] == ["before.txt"]
        # Reads still work while only writes are refused.
        assert bucket.get_object("before.txt").read() == b"stored before the fault"

        # The S3 server is down: reads answer 503 too, and the health check says which part is missing.
        proxy.mode = "down"
        with pytest.raises(oss2.exceptions.ServerError) as down:
            bucket.get_object("before.txt")
        assert down.value.status == 503
        health = server.get("/healthz")
        assert health.status_code == 503
        assert health.json()["objectStoreReachable"] is False and health.json()["databaseReachable"] is True

        # Indexing started while the S3 server is down fails its attempts and resumes when it is back.
        proxy.mode = "pass"
        bucket.put_object_from_file("face.jpg", str(PHOTO))
        imm = ImmClient(config(server, root["AccessKeyId"], root["AccessKeySecret"]))
        imm.create_project(imm_models.CreateProjectRequest(project_name="p"))
        imm.create_dataset(imm_models.CreateDatasetRequest(project_name="p", dataset_name="d"))
        proxy.mode = "down"
        imm.batch_index_file_meta(imm_models.BatchIndexFileMetaRequest(
            project_name="p", dataset_name="d", files=[imm_models.InputFile(uri="oss://photos/face.jpg")]))
        time.sleep(4)
        proxy.mode = "pass"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            (task,) = imm.list_tasks(imm_models.ListTasksRequest(project_name="p")).body.tasks
            if task.status != "Running":
                break
            time.sleep(0.5)
        assert task.status == "Succeeded", (task.code, task.message)
        found = imm.simple_query(imm_models.SimpleQueryRequest(project_name="p", dataset_name="d")).body.files
        assert [f.uri for f in found] == ["oss://photos/face.jpg"] and found[0].figures

        assert server.get("/healthz").status_code == 200
        assert bucket.get_object("before.txt").read() == b"stored before the fault"
        assert local_files(server.data) == []
        assert 'visage_task_duration_seconds_count{queue="media.index",outcome="succeeded"}' in server.get("/metrics").text
    finally:
        server.stop()
        proxy.stop()
