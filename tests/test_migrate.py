"""`visage migrate`: an embedded data directory (SQLite and object files) copied into PostgreSQL
and an S3 server, verified, resumable, and read back by the official SDKs from a server on the new
stores."""
import json
import os
import shutil
import time

import oss2
from alibabacloud_imm20200930 import models as imm_models
from alibabacloud_imm20200930.client import Client as ImmClient

from alibaba import config
from conftest import ROOT, Server, clean_env, run_cli
from s3backend import new_bucket, s3_env

PHOTOS = sorted((ROOT.parent / "shared" / "testdata" / "faces").glob("img*.jpg"))[:3]


def snapshot(bucket, imm):
    """What a client sees: every object's bytes and ETag, unfinished uploads, indexed files and faces."""
    objects = {o.key: (o.etag, bucket.get_object(o.key).read()) for o in oss2.ObjectIterator(bucket)}
    uploads = sorted(u.key for u in oss2.MultipartUploadIterator(bucket))
    files = imm.simple_query(imm_models.SimpleQueryRequest(project_name="album", dataset_name="family")).body.files
    faces = sorted((f.uri, len(f.figures or [])) for f in files)
    return objects, uploads, faces


def test_migrate_copies_and_verifies_and_resumes(tmp_path, postgres_database, moto_server):
    embedded = tmp_path / "embedded"
    server = Server(embedded)
    try:
        root = json.loads((embedded / "root-credentials.json").read_text())
        bucket = oss2.Bucket(oss2.Auth(root["AccessKeyId"], root["AccessKeySecret"]), server.url, "photos")
        bucket.create_bucket()
        for photo in PHOTOS:
            bucket.put_object_from_file(photo.name, str(photo))
        bucket.put_object("big.bin", os.urandom(11 * 1024 * 1024))
        bucket.put_object("empty.txt", b"")
        upload = bucket.init_multipart_upload("unfinished.bin").upload_id
        bucket.upload_part("unfinished.bin", upload, 1, os.urandom(200 * 1024))
        imm = ImmClient(config(server, root["AccessKeyId"], root["AccessKeySecret"]))
        imm.create_project(imm_models.CreateProjectRequest(project_name="album"))
        imm.create_dataset(imm_models.CreateDatasetRequest(project_name="album", dataset_name="family"))
        imm.batch_index_file_meta(imm_models.BatchIndexFileMetaRequest(
            project_name="album", dataset_name="family", files=[imm_models.InputFile(uri=f"oss://photos/{p.name}") for p in PHOTOS]))
        deadline = time.monotonic() + 180
        while any(t.status == "Running" for t in imm.list_tasks(imm_models.ListTasksRequest(project_name="album")).body.tasks):
            assert time.monotonic() < deadline
            time.sleep(0.5)
        before = snapshot(bucket, imm)
    finally:
        server.stop()
    assert len(before[0]) == len(PHOTOS) + 2 and before[1] == ["unfinished.bin"] and all(n > 0 for _, n in before[2])

    name = new_bucket(moto_server, "visage-migrate-%d" % time.monotonic_ns())
    target = s3_env(moto_server.url, name, VISAGE_S3_PART_MIB="5")
    first = run_cli("migrate", "--to-database-url", postgres_database, data=embedded, env=clean_env(**target))
    out = first.stdout.decode()
    assert "objects: %d blobs match" % (len(PHOTOS) + 3) in out and "(%d uploaded now)" % (len(PHOTOS) + 3) in out, out
    assert "rows match" in out

    # Run again: nothing to copy. Lose one blob in the bucket: only that one goes up again.
    again = run_cli("migrate", "--to-database-url", postgres_database, data=embedded, env=clean_env(**target)).stdout.decode()
    assert "(0 tables copied now)" in again and "(0 uploaded now)" in again, again
    keys = moto_server.keys(name, "blobs/")
    moto_server.client().delete_object(Bucket=name, Key=keys[0])
    resumed = run_cli("migrate", "--to-database-url", postgres_database, data=embedded, env=clean_env(**target)).stdout.decode()
    assert "(1 uploaded now)" in resumed, resumed

    # A server on the new stores (its data directory holds only the sealing key) sees the same.
    moved = tmp_path / "moved"
    moved.mkdir(mode=0o700)
    shutil.copy2(embedded / "secret.key", moved / "secret.key")
    server = Server(moved, env=clean_env(VISAGE_DATABASE_URL=postgres_database, **target))
    try:
        root = json.loads((moved / "root-credentials.json").read_text())
        bucket = oss2.Bucket(oss2.Auth(root["AccessKeyId"], root["AccessKeySecret"]), server.url, "photos")
        imm = ImmClient(config(server, root["AccessKeyId"], root["AccessKeySecret"]))
        assert snapshot(bucket, imm) == before
        assert not (moved / "objects").exists()
    finally:
        server.stop()


def test_migrate_refuses_without_a_bucket(tmp_path, postgres_database):
    run_cli("buckets", "ls", data=tmp_path / "data", check=False)
    Server(tmp_path / "data").stop()
    refused = run_cli("migrate", "--to-database-url", postgres_database, data=tmp_path / "data", check=False)
    assert refused.returncode != 0 and b"VISAGE_OBJECT_STORE" in refused.stderr
