"""A server killed with SIGKILL in the middle of an indexing batch finishes the batch after a
restart: every file indexed exactly once, one notification, on SQLite and on PostgreSQL."""
import json
import signal
import time

import oss2
import pytest
from alibabacloud_imm20200930 import models as imm_models
from alibabacloud_imm20200930.client import Client as ImmClient

from alibaba import config
from conftest import ROOT, Server, clean_env
from webhooks import HTTPNotification, Receiver

PHOTOS = sorted((ROOT.parent / "shared" / "testdata" / "faces").glob("img*.jpg"))[:24]


def start(data, receiver, database):
    extra = dict(VISAGE_TASK_LEASE_SECONDS="3", VISAGE_WORKERS="1", VISAGE_NOTIFY_ALLOW_NETWORKS="127.0.0.0/8")
    if database:
        extra["VISAGE_DATABASE_URL"] = database
    return Server(data, env=clean_env(**extra))


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
def test_sigkill_mid_batch_then_restart_indexes_every_file_once(tmp_path, engine, request):
    database = request.getfixturevalue("postgres_database") if engine == "postgres" else None
    receiver = Receiver()
    data = tmp_path / "data"
    server = start(data, receiver, database)
    root = json.loads((data / "root-credentials.json").read_text())
    bucket = oss2.Bucket(oss2.Auth(root["AccessKeyId"], root["AccessKeySecret"]), server.url, "photos")
    bucket.create_bucket()
    for photo in PHOTOS:
        bucket.put_object_from_file(photo.name, str(photo))
    imm = ImmClient(config(server, root["AccessKeyId"], root["AccessKeySecret"]))
    imm.create_project(imm_models.CreateProjectRequest(project_name="p"))
    imm.create_dataset(imm_models.CreateDatasetRequest(project_name="p", dataset_name="d"))
    event = imm.batch_index_file_meta(imm_models.BatchIndexFileMetaRequest(
        project_name="p", dataset_name="d", files=[imm_models.InputFile(uri=f"oss://photos/{p.name}") for p in PHOTOS],
        notification=HTTPNotification(receiver.url + "/done"))).body.event_id

    def task(client):
        return client.get_task(imm_models.GetTaskRequest(project_name="p", task_type="BatchIndexFileMeta", task_id=event)).body

    deadline = time.monotonic() + 120
    while (progress := task(imm).progress) < 20:
        assert time.monotonic() < deadline, "indexing did not start"
        time.sleep(0.1)
    assert progress < 100, "the batch finished before it could be interrupted"
    server.stop(signal.SIGKILL)

    server = start(data, receiver, database)
    try:
        imm = ImmClient(config(server, root["AccessKeyId"], root["AccessKeySecret"]))
        deadline = time.monotonic() + 180
        while (state := task(imm)).status == "Running":
            assert time.monotonic() < deadline, "the batch was not finished after the restart"
            time.sleep(0.3)
        assert state.status == "Succeeded" and state.progress == 100
        files = imm.batch_get_file_meta(imm_models.BatchGetFileMetaRequest(
            project_name="p", dataset_name="d", uris=[f"oss://photos/{p.name}" for p in PHOTOS])).body.files
        assert sorted(f.filename for f in files) == sorted(p.name for p in PHOTOS)
        # Written once: a second write would have moved UpdateTime past CreateTime.
        assert [f.filename for f in files if f.update_time != f.create_time] == []
        hits = imm.simple_query(imm_models.SimpleQueryRequest(project_name="p", dataset_name="d")).body.total_hits
        assert hits == len(PHOTOS)
        deliveries = receiver.wait_for("/done")
        time.sleep(2)
        deliveries = [d for d in receiver.deliveries if d["path"] == "/done"]
        assert len(deliveries) == 1
        content = json.loads(json.loads(deliveries[0]["body"])["content"])
        assert [f["URI"] for f in content["Files"]] == [f"oss://photos/{p.name}" for p in PHOTOS]
        assert content["Success"] is True
    finally:
        server.stop()
        receiver.http.shutdown()
