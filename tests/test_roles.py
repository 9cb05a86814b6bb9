"""Process roles over one PostgreSQL: an API process answers and queues, a worker process does the
queued work, and neither does the other's job."""
import json
import time

import oss2
import requests
from alibabacloud_imm20200930 import models as imm_models
from alibabacloud_imm20200930.client import Client as ImmClient

from alibaba import config
from conftest import ROOT, Server, clean_env

PHOTOS = sorted((ROOT.parent / "shared" / "testdata" / "faces").glob("img*.jpg"))[:6]


def task_status(imm, _event_id):
    (task,) = imm.list_tasks(imm_models.ListTasksRequest(project_name="roles")).body.tasks
    return task


def test_api_queues_and_the_worker_indexes(tmp_path, postgres_database):
    settings = dict(VISAGE_DATABASE_URL=postgres_database, VISAGE_WORKERS="1")
    api = Server(tmp_path / "data", env=clean_env(VISAGE_ROLE="api", **settings))
    worker = None
    try:
        assert api.get("/healthz").json()["role"] == "api"
        root = json.loads((api.data / "root-credentials.json").read_text())
        bucket = oss2.Bucket(oss2.Auth(root["AccessKeyId"], root["AccessKeySecret"]), api.url, "photos")
        bucket.create_bucket()
        for photo in PHOTOS:
            bucket.put_object_from_file(photo.name, str(photo))
        imm = ImmClient(config(api, root["AccessKeyId"], root["AccessKeySecret"]))
        imm.create_project(imm_models.CreateProjectRequest(project_name="roles"))
        imm.create_dataset(imm_models.CreateDatasetRequest(project_name="roles", dataset_name="album"))
        answer = imm.batch_index_file_meta(imm_models.BatchIndexFileMetaRequest(
            project_name="roles", dataset_name="album", files=[imm_models.InputFile(uri=f"oss://photos/{p.name}") for p in PHOTOS]))
        task_id = answer.body.event_id
        # The API process queues the work and does none of it.
        time.sleep(3)
        assert task_status(imm, task_id).status == "Running"
        # The queue's depth shows in the metrics of either process (one database).
        assert 'visage_queue_tasks{queue="media.index",status="queued"} 1' in api.get("/metrics").text

        worker = Server(tmp_path / "data", env=clean_env(VISAGE_ROLE="worker", **settings))
        health = worker.get("/healthz").json()
        assert health["role"] == "worker" and health["database"] == "postgres"
        # A worker answers no API request.
        assert worker.get("/ui/").status_code == 404
        assert requests.post(worker.url + "/?Action=GetCallerIdentity&Version=2015-04-01", timeout=10).status_code == 404
        deadline = time.monotonic() + 120
        while task_status(imm, task_id).status == "Running" and time.monotonic() < deadline:
            time.sleep(0.5)
        done = task_status(imm, task_id)
        assert done.status == "Succeeded", (done.code, done.message)
        found = imm.simple_query(imm_models.SimpleQueryRequest(project_name="roles", dataset_name="album")).body.files
        assert sorted(f.uri for f in found) == sorted(f"oss://photos/{p.name}" for p in PHOTOS)
        assert 'visage_queue_tasks{queue="media.index"' not in worker.get("/metrics").text
    finally:
        if worker:
            worker.stop()
        api.stop()
