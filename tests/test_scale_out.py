"""One API process and two worker processes over PostgreSQL and an S3 server: 200 photos indexed
through the API while a worker is SIGKILLed mid-indexing, then clustered. Every file is indexed
once, no face twice, and the people are the same as one process makes of the same photos."""
import json
import signal
import time

import oss2
from alibabacloud_imm20200930 import models as imm_models
from alibabacloud_imm20200930.client import Client as ImmClient

from alibaba import config
from conftest import ROOT, Server, clean_env
from s3backend import new_bucket, s3_env

TESTDATA = ROOT.parent / "shared" / "testdata"
PHOTOS = (sorted((TESTDATA / "faces").glob("*.jpg")) + sorted((TESTDATA / "faces-east-asia").rglob("*.jpg"))
          + sorted((TESTDATA / "faces-east-asia-lfw").rglob("*.jpg")))[:200]
COMMON = dict(VISAGE_WORKERS="1", VISAGE_INFERENCE_THREADS="1", VISAGE_TASK_LEASE_SECONDS="3", VISAGE_TASK_RETRY_SECONDS="1")


def name(photo):
    return photo.parent.name + "-" + photo.name


def upload_and_index(api):
    root = json.loads((api.data / "root-credentials.json").read_text())
    bucket = oss2.Bucket(oss2.Auth(root["AccessKeyId"], root["AccessKeySecret"]), api.url, "photos")
    bucket.create_bucket()
    for photo in PHOTOS:
        bucket.put_object_from_file(name(photo), str(photo))
    imm = ImmClient(config(api, root["AccessKeyId"], root["AccessKeySecret"]))
    imm.create_project(imm_models.CreateProjectRequest(project_name="p"))
    imm.create_dataset(imm_models.CreateDatasetRequest(project_name="p", dataset_name="d"))
    # Batches of ten, so the workers share them out.
    for start in range(0, len(PHOTOS), 10):
        imm.batch_index_file_meta(imm_models.BatchIndexFileMetaRequest(project_name="p", dataset_name="d", files=[
            imm_models.InputFile(uri=f"oss://photos/{name(p)}") for p in PHOTOS[start:start + 10]]))
    return imm


def indexed_count(imm):
    tasks = imm.list_tasks(imm_models.ListTasksRequest(project_name="p", max_results=100)).body.tasks
    return sum(1 for t in tasks if t.status != "Running"), tasks


def wait_indexed(imm, timeout=900):
    deadline = time.monotonic() + timeout
    while (done := indexed_count(imm))[0] < len(PHOTOS) // 10:
        assert time.monotonic() < deadline, "indexing did not finish"
        time.sleep(1)
    assert all(t.status == "Succeeded" for t in done[1]), [(t.code, t.message) for t in done[1] if t.status != "Succeeded"]


def people(imm):
    """The partition of faces into people: each person as the set of its faces (file, box)."""
    task = imm.create_figure_clustering_task(imm_models.CreateFigureClusteringTaskRequest(project_name="p", dataset_name="d")).body
    deadline = time.monotonic() + 300
    while (state := imm.get_task(imm_models.GetTaskRequest(project_name="p", task_type="FaceClustering",
                                                           task_id=task.task_id)).body).status == "Running":
        assert time.monotonic() < deadline
        time.sleep(1)
    assert state.status == "Succeeded", state.message
    files, token = [], None
    while True:
        page = imm.simple_query(imm_models.SimpleQueryRequest(project_name="p", dataset_name="d", max_results=100, next_token=token)).body
        files += page.files
        token = page.next_token
        if not token:
            break
    faces, groups = {}, {}
    for f in files:
        boxes = [(b.left, b.top, b.width, b.height) for b in (fig.boundary for fig in f.figures or [])]
        faces[f.uri] = sorted(boxes)
        for fig in f.figures or []:
            key = (f.uri, fig.boundary.left, fig.boundary.top, fig.boundary.width, fig.boundary.height)
            groups.setdefault(fig.figure_cluster_id, set()).add(key)
    return files, faces, sorted(sorted(g) for cid, g in groups.items() if cid)


def test_one_api_two_workers_survive_a_sigkill_and_cluster_like_one_process(tmp_path, postgres_database, moto_server):
    bucket = new_bucket(moto_server, "visage-scale-%d" % time.monotonic_ns())
    env = clean_env(VISAGE_DATABASE_URL=postgres_database, **s3_env(moto_server.url, bucket), **COMMON)
    api = Server(tmp_path / "api", env=dict(env, VISAGE_ROLE="api"))
    workers = []
    try:
        imm = upload_and_index(api)
        workers = [Server(tmp_path / "api", env=dict(env, VISAGE_ROLE="worker")) for _ in range(2)]
        deadline = time.monotonic() + 300
        while indexed_count(imm)[0] < 3:
            assert time.monotonic() < deadline
            time.sleep(0.5)
        workers[0].stop(signal.SIGKILL)
        wait_indexed(imm)
        files, faces, scaled = people(imm)
        assert sorted(f.uri for f in files) == sorted(f"oss://photos/{name(p)}" for p in PHOTOS)
        # Written once: a second write would have moved UpdateTime past CreateTime.
        assert [f.uri for f in files if f.update_time != f.create_time] == []
    finally:
        for worker in workers:
            worker.stop()
        api.stop()

    alone = Server(tmp_path / "alone", env=clean_env(**COMMON))
    try:
        imm = upload_and_index(alone)
        wait_indexed(imm)
        _, single_faces, single = people(imm)
    finally:
        alone.stop()
    assert faces == single_faces
    assert scaled == single and len(single) > 10
