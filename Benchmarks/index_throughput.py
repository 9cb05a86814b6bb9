"""Indexing throughput through the API: photos uploaded with oss2, indexed with
BatchIndexFileMeta (durable task, full pipeline: read, decode, detect, landmarks, embedding,
attributes, metadata and field index written), timed from the request to the task's end.
Beside it, the face engine alone on the same photos (`visage bench faces`), so the ratio is
what the task queue, the stores and the metadata add. Prints Markdown."""
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import oss2
from alibabacloud_imm20200930 import models as imm_models
from alibabacloud_imm20200930.client import Client as ImmClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from alibaba import config  # noqa: E402
from conftest import BINARY, ROOT, Server, clean_env  # noqa: E402

SETS = [ROOT.parent / "shared" / "testdata" / "faces", ROOT.parent / "shared" / "testdata" / "faces-east-asia"]


def engine_rate(folder):
    out = subprocess.run([str(BINARY), "bench", "faces", str(folder)], capture_output=True, text=True, check=True,
                         env=clean_env()).stdout
    return float(re.search(r"([\d.]+) images/s", out).group(1))


def index_rate(folder, workers, data):
    server = Server(data, env=clean_env(VISAGE_WORKERS=str(workers)))
    try:
        root = json.loads((data / "root-credentials.json").read_text())
        bucket = oss2.Bucket(oss2.Auth(root["AccessKeyId"], root["AccessKeySecret"]), server.url, "photos")
        bucket.create_bucket()
        names = [f["name"] for f in json.loads((folder / "manifest.json").read_text())["files"]]
        for name in names:
            bucket.put_object_from_file(name, str(folder / name))
        imm = ImmClient(config(server, root["AccessKeyId"], root["AccessKeySecret"]))
        imm.create_project(imm_models.CreateProjectRequest(project_name="bench"))
        imm.create_dataset(imm_models.CreateDatasetRequest(project_name="bench", dataset_name="photos"))
        # Warm the face engine (loaded lazily on first use) so the timing is the steady state.
        warm = imm.index_file_meta(imm_models.IndexFileMetaRequest(
            project_name="bench", dataset_name="photos", file=imm_models.InputFile(uri=f"oss://photos/{names[0]}"))).body.event_id
        wait(imm, "IndexFileMeta", [warm])
        batches = [names[i::workers] for i in range(workers)]
        start = time.perf_counter()
        events = []
        for batch in batches:
            for chunk in range(0, len(batch), 100):
                events.append(imm.batch_index_file_meta(imm_models.BatchIndexFileMetaRequest(
                    project_name="bench", dataset_name="photos",
                    files=[imm_models.InputFile(uri=f"oss://photos/{n}") for n in batch[chunk:chunk + 100]])).body.event_id)
        wait(imm, "BatchIndexFileMeta", events)
        return len(names) / (time.perf_counter() - start)
    finally:
        server.stop()


def wait(imm, task_type, events):
    for event in events:
        while imm.get_task(imm_models.GetTaskRequest(project_name="bench", task_type=task_type,
                                                     task_id=event)).body.status == "Running":
            time.sleep(0.05)


def main():
    import tempfile
    print("| photo set | images | engine alone (img/s) | indexed via API, 1 worker (img/s) | 2 workers (img/s) | 1 worker / engine |")
    print("|---|---|---|---|---|---|")
    for folder in SETS:
        count = len(json.loads((folder / "manifest.json").read_text())["files"])
        engine = engine_rate(folder)
        rates = []
        for workers in (1, 2):
            with tempfile.TemporaryDirectory() as scratch:
                rates.append(index_rate(folder, workers, Path(scratch) / "data"))
        print(f"| {folder.name} | {count} | {engine:.2f} | {rates[0]:.2f} | {rates[1]:.2f} | {rates[0] / engine:.2f} |")


if __name__ == "__main__":
    main()
