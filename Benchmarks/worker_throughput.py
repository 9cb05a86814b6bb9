"""Indexing throughput of the scale-out layout with 1, then 2, worker processes: one API process
(`--role api`) and the workers (`--role worker`, one indexing task and one inference thread
each) over PostgreSQL (the caller's, VISAGE_TEST_POSTGRES_URL) and an S3 server (moto, started
here). The photos of the three test sets are uploaded through the API, each under COPIES
keys (default 2, so that a run lasts a minute or two); for each worker count a fresh dataset
indexes all of them with BatchIndexFileMeta in batches of five, timed from the first request to
the end of the last task (read with GetTask), after the workers have loaded their models. Beside
the rate: the cores the worker processes used, and the cores the whole machine was busy (from
/proc/stat), which tells when something else took the CPU. Prints Markdown.

    scripts/with-postgres .venv/bin/python Benchmarks/worker_throughput.py [COPIES]   (Benchmarks/run-workers)
"""
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import oss2
from alibabacloud_imm20200930 import models as imm_models
from alibabacloud_imm20200930.client import Client as ImmClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from alibaba import config  # noqa: E402
from conftest import ROOT, Server, clean_env  # noqa: E402
from s3backend import MotoServer, create_database, drop_database, new_bucket, s3_env  # noqa: E402

TESTDATA = ROOT.parent / "shared" / "testdata"
SETS = ["faces", "faces-east-asia", "faces-east-asia-lfw"]
BATCH = 5
TICKS = os.sysconf("SC_CLK_TCK")


def photos():
    found = []
    for name in SETS:
        found += sorted(p for p in (TESTDATA / name).rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    return found


def key(photo):
    return str(photo.relative_to(TESTDATA)).replace("/", "-")


def cpu_seconds(process):
    """User and system time of a process so far (from /proc)."""
    fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def wait(imm, task_type, events, timeout=1800):
    deadline = time.monotonic() + timeout
    for event in events:
        while (state := imm.get_task(imm_models.GetTaskRequest(project_name="bench", task_type=task_type,
                                                               task_id=event)).body).status == "Running":
            if time.monotonic() > deadline:
                raise RuntimeError("indexing did not finish in time")
            time.sleep(0.1)
        if state.status != "Succeeded":
            raise RuntimeError(f"task {event}: {state.status} {state.code} {state.message}")


def machine_busy_seconds():
    """CPU seconds all cores have spent on anything but idling and waiting for I/O so far."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / TICKS


def index_with(count, imm, env, data, files, helpers):
    """Images per second, seconds, and the cores busy (the workers; `helpers`, the API process and
    the S3 server; the whole machine), with `count` worker processes."""
    workers = [Server(data, env=dict(env, VISAGE_ROLE="worker")) for _ in range(count)]
    try:
        # Warm-up: one task per worker and one more, submitted together. A worker runs one task
        # at a time, so each takes one while another is still loading its models.
        warm = f"warm-{count}"
        imm.create_dataset(imm_models.CreateDatasetRequest(project_name="bench", dataset_name=warm))
        events = [imm.index_file_meta(imm_models.IndexFileMetaRequest(
            project_name="bench", dataset_name=warm, file=imm_models.InputFile(uri=f"oss://photos/{name}"))).body.event_id
            for name in files[:count + 1]]
        wait(imm, "IndexFileMeta", events)
        dataset = f"workers-{count}"
        imm.create_dataset(imm_models.CreateDatasetRequest(project_name="bench", dataset_name=dataset))
        cpu_before = sum(cpu_seconds(w.process) for w in workers)
        helpers_before = sum(cpu_seconds(h) for h in helpers)
        busy_before = machine_busy_seconds()
        start = time.perf_counter()
        events = [imm.batch_index_file_meta(imm_models.BatchIndexFileMetaRequest(
            project_name="bench", dataset_name=dataset,
            files=[imm_models.InputFile(uri=f"oss://photos/{name}") for name in files[i:i + BATCH]])).body.event_id
            for i in range(0, len(files), BATCH)]
        wait(imm, "BatchIndexFileMeta", events)
        elapsed = time.perf_counter() - start
        cores = (sum(cpu_seconds(w.process) for w in workers) - cpu_before) / elapsed
        helped = (sum(cpu_seconds(h) for h in helpers) - helpers_before) / elapsed
        busy = (machine_busy_seconds() - busy_before) / elapsed
        return len(files) / elapsed, elapsed, cores, helped, busy
    finally:
        for worker in workers:
            worker.stop()


def main():
    admin = os.environ.get("VISAGE_TEST_POSTGRES_URL")
    if not admin:
        sys.exit("run under scripts/with-postgres (VISAGE_TEST_POSTGRES_URL is not set)")
    copies = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    all_photos = photos()
    moto = MotoServer()
    database, url = create_database(admin, "workers")
    work = Path(tempfile.mkdtemp(dir=os.environ.get("VISAGE_BENCH_DIR", ROOT)))
    env = clean_env(VISAGE_DATABASE_URL=url, **s3_env(moto.url, new_bucket(moto, "visage-workers")),
                    VISAGE_WORKERS="1", VISAGE_INFERENCE_THREADS="1")
    api = Server(work / "data", env=dict(env, VISAGE_ROLE="api"))
    try:
        root = json.loads((api.data / "root-credentials.json").read_text())
        bucket = oss2.Bucket(oss2.Auth(root["AccessKeyId"], root["AccessKeySecret"]), api.url, "photos")
        bucket.create_bucket()
        files = []
        for copy in range(copies):
            for photo in all_photos:
                files.append(f"{copy}-{key(photo)}")
                bucket.put_object_from_file(files[-1], str(photo))
        imm = ImmClient(config(api, root["AccessKeyId"], root["AccessKeySecret"]))
        imm.create_project(imm_models.CreateProjectRequest(project_name="bench"))
        results = {count: index_with(count, imm, env, work / "data", files, [api.process, moto.process]) for count in (1, 2)}
        print(f"{len(files)} images ({len(all_photos)} photos of {', '.join(SETS)}, {copies} keys each), batches of {BATCH}, "
              f"one API process, each worker `VISAGE_WORKERS=1 VISAGE_INFERENCE_THREADS=1`:\n")
        print("| worker processes | seconds | images/s | ÷ 1 worker | cores used by the workers | by the API and S3 server | busy on the machine |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for count, (rate, elapsed, cores, helped, busy) in results.items():
            print(f"| {count} | {elapsed:.1f} | {rate:.2f} | {rate / results[1][0]:.2f} | {cores:.2f} | {helped:.2f} | {busy:.2f} |")
    finally:
        api.stop()
        moto.stop()
        drop_database(admin, database)
        os.system(f"rm -rf '{work}'")


if __name__ == "__main__":
    main()
