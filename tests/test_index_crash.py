"""A server killed with SIGKILL in the middle of an indexing batch finishes the batch after a
restart: every file indexed exactly once, one notification, on SQLite and on PostgreSQL. A file
the store keeps refusing fails after the last attempt instead of holding the task for ever."""
import json
import signal
import sqlite3
import subprocess
import time

import oss2
import pytest
from alibabacloud_imm20200930 import models as imm_models
from alibabacloud_imm20200930.client import Client as ImmClient

from alibaba import config
from conftest import ROOT, Server, clean_env
from webhooks import HTTPNotification, Receiver

PHOTOS = sorted((ROOT.parent / "shared" / "testdata" / "faces").glob("img*.jpg"))[:24]


def start(data, database, **settings):
    extra = dict(VISAGE_TASK_LEASE_SECONDS="3", VISAGE_WORKERS="1", VISAGE_NOTIFY_ALLOW_NETWORKS="127.0.0.0/8", **settings)
    if database:
        extra["VISAGE_DATABASE_URL"] = database
    return Server(data, env=clean_env(**extra))


def batch(server, data, receiver, objects):
    """Uploads `objects` (name: photo), makes project p with dataset d and indexes them all in
    one batch; the root credentials, the IMM client and the task's id."""
    root = json.loads((data / "root-credentials.json").read_text())
    bucket = oss2.Bucket(oss2.Auth(root["AccessKeyId"], root["AccessKeySecret"]), server.url, "photos")
    bucket.create_bucket()
    for name, photo in objects.items():
        bucket.put_object_from_file(name, str(photo))
    imm = ImmClient(config(server, root["AccessKeyId"], root["AccessKeySecret"]))
    imm.create_project(imm_models.CreateProjectRequest(project_name="p"))
    imm.create_dataset(imm_models.CreateDatasetRequest(project_name="p", dataset_name="d"))
    event = imm.batch_index_file_meta(imm_models.BatchIndexFileMetaRequest(
        project_name="p", dataset_name="d", files=[imm_models.InputFile(uri=f"oss://photos/{n}") for n in objects],
        notification=HTTPNotification(receiver.url + "/done"))).body.event_id
    return root, imm, event


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
def test_sigkill_mid_batch_then_restart_indexes_every_file_once(tmp_path, engine, request):
    database = request.getfixturevalue("postgres_database") if engine == "postgres" else None
    receiver = Receiver()
    data = tmp_path / "data"
    server = start(data, database)
    root, imm, event = batch(server, data, receiver, {p.name: p for p in PHOTOS})

    def task(client):
        return client.get_task(imm_models.GetTaskRequest(project_name="p", task_type="BatchIndexFileMeta", task_id=event)).body

    deadline = time.monotonic() + 120
    while (progress := task(imm).progress) < 20:
        assert time.monotonic() < deadline, "indexing did not start"
        time.sleep(0.1)
    assert progress < 100, "the batch finished before it could be interrupted"
    server.stop(signal.SIGKILL)

    server = start(data, database)
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


POISON = {
    "sqlite": ["CREATE TRIGGER poison BEFORE INSERT ON media_files WHEN NEW.uri LIKE '%poison%' "
               "BEGIN SELECT RAISE(ABORT, 'poisoned'); END"],
    "postgres": ["CREATE FUNCTION poison() RETURNS trigger AS $$ BEGIN IF NEW.uri LIKE '%poison%' THEN "
                 "RAISE EXCEPTION 'poisoned'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql",
                 "CREATE TRIGGER poison BEFORE INSERT ON media_files FOR EACH ROW EXECUTE FUNCTION poison()"],
}


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
def test_a_file_the_store_keeps_refusing_fails_after_the_last_attempt(tmp_path, engine, request):
    """The store refusing one file's metadata (here a trigger) is retried with backoff; after the
    last attempt that file is reported failed and the task ends, with every other file indexed."""
    database = request.getfixturevalue("postgres_database") if engine == "postgres" else None
    receiver = Receiver()
    data = tmp_path / "data"
    server = start(data, database, VISAGE_TASK_RETRY_SECONDS="0.02")
    try:
        for statement in POISON[engine]:
            if database:
                subprocess.run(["psql", database, "-qc", statement], check=True, capture_output=True)
            else:
                with sqlite3.connect(data / "visage.sqlite") as db:
                    db.execute(statement)
        names = [PHOTOS[0].name, "poison.jpg", PHOTOS[1].name]
        _, imm, event = batch(server, data, receiver, dict(zip(names, PHOTOS)))
        deadline = time.monotonic() + 120
        while (state := imm.get_task(imm_models.GetTaskRequest(
                project_name="p", task_type="BatchIndexFileMeta", task_id=event)).body).status == "Running":
            assert time.monotonic() < deadline, "the task never ended"
            time.sleep(0.3)
        assert state.status == "Succeeded" and state.message == "1 of 3 files failed."
        content = json.loads(json.loads(receiver.wait_for("/done")[0]["body"])["content"])
        errors = {f["URI"]: f["Error"] for f in content["Files"]}
        assert errors.pop("oss://photos/poison.jpg").startswith("[InternalError] indexing failed on every attempt (10): ")
        assert set(errors.values()) == {""} and content["Success"] is False
        found = imm.simple_query(imm_models.SimpleQueryRequest(project_name="p", dataset_name="d")).body.files
        assert sorted(f.filename for f in found) == sorted([names[0], names[2]])
    finally:
        server.stop()
        receiver.http.shutdown()
