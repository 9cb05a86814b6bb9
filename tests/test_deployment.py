"""The deployment recipe's units, run as written: the ExecStart commands of the API, worker and
sweep units with the example environment file (pointed at the test's PostgreSQL and S3 server),
as two machines sharing one database and one bucket: one API process and two workers."""
import json
import re
import shlex
import shutil
import subprocess
import time
from pathlib import Path

import oss2
import requests
from alibabacloud_imm20200930 import models as imm_models
from alibabacloud_imm20200930.client import Client as ImmClient

from alibaba import config
from conftest import BINARY, ROOT
from s3backend import KEY_ID, SECRET, free_port, new_bucket

UNITS = ROOT / "deploy" / "systemd"
PHOTOS = sorted((ROOT.parent / "shared" / "testdata" / "faces").glob("img*.jpg"))[:4]


def unit(name):
    """The [Service] settings of a unit file: each key's values in order."""
    settings, section = {}, None
    for line in (UNITS / name).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line.strip("[]")
        elif section == "Service":
            key, value = line.split("=", 1)
            settings.setdefault(key, []).append(value)
    return settings


def environment_file(path):
    values = {}
    for line in Path(path).read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, value = line.split("=", 1)
            values[key] = value
    return values


class UnitProcess:
    """A unit's ExecStart run as systemd would: its Environment lines over the environment file."""

    def __init__(self, name, instance, machine, overrides):
        service = unit(name)
        env = {"PATH": "/usr/bin:/bin"}
        env.update(environment_file(ROOT / "deploy" / "visage.env.example"))
        env.update(overrides)
        for line in service.get("Environment", []):
            key, value = line.split("=", 1)
            env[key] = value.replace("%i", str(instance))
        (command,) = service["ExecStart"]
        args = [arg.replace("/usr/local/bin/visage", str(BINARY)).replace("/var/lib/visage", str(machine))
                for arg in shlex.split(command.replace("%i", str(instance)))]
        self.env, self.args = env, args
        self.process = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.url = None
        if instance is not None:
            lines = []
            while not (match := re.search(r"listening on (http://[\d.:]+)/", lines[-1] if lines else "")):
                lines.append(self.process.stdout.readline())
                assert lines[-1], "the unit's process exited: " + "".join(lines)
            self.url = match.group(1).replace("0.0.0.0", "127.0.0.1")

    def health(self):
        return requests.get(self.url + "/healthz", timeout=10).json()

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=60)
        self.process.stdout.close()


def test_units_run_one_api_and_two_workers_over_postgres_and_s3(tmp_path, postgres_database, moto_server):
    bucket = new_bucket(moto_server, "visage-deploy-%d" % time.monotonic_ns())
    overrides = dict(VISAGE_DATABASE_URL=postgres_database, VISAGE_OBJECT_STORE=f"s3://{bucket}/blobs",
                     VISAGE_S3_ENDPOINT=moto_server.url, VISAGE_S3_ACCESS_KEY_ID=KEY_ID, VISAGE_S3_SECRET_ACCESS_KEY=SECRET,
                     VISAGE_ROOT_ACCESS_KEY_ID="deploy-root-key", VISAGE_ROOT_ACCESS_KEY_SECRET="deploy-root-secret-0123456789",
                     VISAGE_WORKERS="1", VISAGE_INFERENCE_THREADS="1", VISAGE_LOG_FORMAT="json")
    # Two machines: each has its own data directory with the same sealing key.
    first, second = tmp_path / "machine-a", tmp_path / "machine-b"
    api = UnitProcess("visage-api@.service", free_port(), first, overrides)
    second.mkdir(mode=0o700)
    shutil.copy2(first / "secret.key", second / "secret.key")
    workers = [UnitProcess("visage-worker@.service", free_port(), second, overrides) for _ in range(2)]
    try:
        health = api.health()
        assert (health["role"], health["database"], health["objectStore"]) == ("api", "postgres", "s3")
        assert health["databaseReachable"] and health["objectStoreReachable"] and health["status"] == "ok"
        for worker in workers:
            assert worker.health()["role"] == "worker" and worker.health()["status"] == "ok"

        auth = oss2.Auth("deploy-root-key", "deploy-root-secret-0123456789")
        photos = oss2.Bucket(auth, api.url, "photos")
        photos.create_bucket()
        for photo in PHOTOS:
            photos.put_object_from_file(photo.name, str(photo))
        assert len(moto_server.keys(bucket, "blobs/")) == len(PHOTOS)
        imm = ImmClient(config(api, "deploy-root-key", "deploy-root-secret-0123456789"))
        imm.create_project(imm_models.CreateProjectRequest(project_name="album"))
        imm.create_dataset(imm_models.CreateDatasetRequest(project_name="album", dataset_name="family"))
        for photo in PHOTOS:
            imm.batch_index_file_meta(imm_models.BatchIndexFileMetaRequest(
                project_name="album", dataset_name="family", files=[imm_models.InputFile(uri=f"oss://photos/{photo.name}")]))
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            tasks = imm.list_tasks(imm_models.ListTasksRequest(project_name="album", max_results=100)).body.tasks
            if all(task.status != "Running" for task in tasks):
                break
            time.sleep(1)
        assert [task.status for task in tasks] == ["Succeeded"] * len(PHOTOS)
        found = imm.simple_query(imm_models.SimpleQueryRequest(project_name="album", dataset_name="family")).body.files
        assert sorted(f.uri for f in found) == sorted(f"oss://photos/{p.name}" for p in PHOTOS)
        # The workers shared the tasks out between them; each counts the attempts it ran.
        counts = []
        for worker in workers:
            text = requests.get(worker.url + "/metrics", timeout=10).text
            match = re.search(r'visage_task_duration_seconds_count\{queue="media.index",outcome="succeeded"\} (\d+)', text)
            counts.append(int(match.group(1)) if match else 0)
        assert sum(counts) == len(PHOTOS)

        sweep = UnitProcess("visage-sweep.service", None, second, overrides)
        assert sweep.process.wait(timeout=60) == 0
        assert sweep.process.stdout.read().strip() == "removed 0 unreferenced blobs"
        sweep.process.stdout.close()
        # Nothing went to either machine's objects folder.
        assert not (first / "objects").exists() and not (second / "objects").exists()
    finally:
        for process in workers + [api]:
            process.stop()


def test_the_timer_starts_the_sweep():
    text = (UNITS / "visage-sweep.timer").read_text()
    assert "OnUnitActiveSec=" in text and "WantedBy=timers.target" in text
    assert unit("visage-sweep.service")["Type"] == ["oneshot"]
