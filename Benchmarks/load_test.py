"""Load on the release binary: DetectImageFaces on 1 MP photos from 1, 2 and 4 concurrent
clients, latency percentiles and errors, with /healthz probed alongside; then object PUT and
GET of 1 MB and 64 MB through curl beside dd on the same disk. Prints Markdown.

    Benchmarks/run-load [SECONDS]          (seconds per client count, default 60)
    Benchmarks/run-load --objects-only     (the object part alone, about a minute)

Each tool is timed by its own clock, so that starting a process is in no figure: curl's
`time_total` (connection to last byte, the server's answer included) and the time dd reports.
A PUT is answered once its bytes are fsync'd, so dd writes with `conv=fsync`; both reads come
from the page cache (an object just written, a file just written). Two bounds are measured on
the same data beside them: MD5 on one core (every PUT computes it for the ETag), and curl
fetching the same file over loopback from a sender that does nothing but `sendfile`.
"""
import argparse
import hashlib
import http.server
import io
import re
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import oss2
from alibabacloud_imm20200930 import models as imm_models
from alibabacloud_imm20200930.client import Client as ImmClient
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import rekognition  # noqa: E402
from alibaba import config  # noqa: E402
from conftest import ROOT, Server  # noqa: E402

MB = 1024 * 1024
PHOTOS = ROOT.parent / "shared" / "testdata" / "faces"


def peak_rss_mb(pid):
    """The process's peak resident set (VmHWM), in MB."""
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def one_megapixel(bucket):
    """Test photos scaled to about 1 MP (1155 x 866 or the like), stored in the bucket."""
    keys = []
    for photo in sorted(PHOTOS.glob("img*.jpg"))[:12]:
        image = Image.open(photo).convert("RGB")
        scale = (1_000_000 / (image.width * image.height)) ** 0.5
        image = image.resize((round(image.width * scale), round(image.height * scale)))
        data = io.BytesIO()
        image.save(data, "JPEG", quality=90)
        bucket.put_object(photo.name, data.getvalue())
        keys.append(photo.name)
    return keys


def load(server, imm, keys, clients, seconds):
    """Latencies (ms) of DetectImageFaces from `clients` threads for `seconds`, errors, and /healthz latencies."""
    latencies, errors, health = [], [], []
    stop = time.monotonic() + seconds
    lock = threading.Lock()

    def client(index):
        turn = index
        while time.monotonic() < stop:
            key = keys[turn % len(keys)]
            turn += clients
            start = time.perf_counter()
            try:
                imm.detect_image_faces(imm_models.DetectImageFacesRequest(project_name="load", source_uri=f"oss://load/{key}"))
                with lock:
                    latencies.append((time.perf_counter() - start) * 1000)
            except Exception as error:  # noqa: BLE001  (every failure counts, whatever it is)
                with lock:
                    errors.append(repr(error)[:200])

    def prober():
        while time.monotonic() < stop:
            start = time.perf_counter()
            try:
                ok = server.get("/healthz").status_code == 200
            except Exception:  # noqa: BLE001
                ok = False
            health.append((time.perf_counter() - start) * 1000 if ok else float("inf"))
            time.sleep(0.1)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)] + [threading.Thread(target=prober)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors, health


def curl_seconds(*arguments):
    """curl's own `time_total` for one transfer that must succeed."""
    done = subprocess.run(["curl", "-sf", "-o", "/dev/null", "-w", "%{time_total}", *arguments],
                          capture_output=True, text=True, check=True)
    return float(done.stdout)


def dd_seconds(*operands):
    """The time dd reports for its copy (its last line: `N bytes ... copied, S s, R MB/s`)."""
    done = subprocess.run(["dd", *operands], capture_output=True, text=True, check=True)
    return float(re.search(r"copied, ([\d.e-]+) s", done.stderr).group(1))


def md5_seconds(path):
    data = path.read_bytes()
    start = time.perf_counter()
    hashlib.md5(data).digest()
    return time.perf_counter() - start


class SendfileHandler(http.server.BaseHTTPRequestHandler):
    """GET of one file with `sendfile`: what curl receives over loopback when the sender costs nothing."""
    path_to_send = None

    def do_GET(self):  # noqa: N802  (the standard library's name)
        size = self.path_to_send.stat().st_size
        self.send_response(200)
        self.send_header("Content-Length", str(size))
        self.end_headers()
        with open(self.path_to_send, "rb") as source:
            self.wfile.flush()
            self.connection.sendfile(source)

    def log_message(self, *_):
        pass


def sendfile_ceiling(path, rounds):
    """Median curl seconds for `path` served by `SendfileHandler` on loopback."""
    handler = type("Handler", (SendfileHandler,), {"path_to_send": path})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        return statistics.median(curl_seconds(f"http://127.0.0.1:{server.server_port}/") for _ in range(rounds))
    finally:
        server.shutdown()
        server.server_close()


def curl_objects(bucket, work, sizes=((1, 40), (64, 8))):
    """Rows of the object table: median MB/s of curl PUT and GET beside dd, and the two bounds."""
    rows = []
    for size_mb, rounds in sizes:
        source = work / f"payload-{size_mb}"
        source.write_bytes(os.urandom(size_mb * MB))
        puts, gets, dd_writes, dd_reads = [], [], [], []
        for i in range(rounds):
            key = f"curl-{size_mb}-{i}"
            put_url = bucket.sign_url("PUT", key, 600, headers={"Content-Type": "application/octet-stream"})
            puts.append(curl_seconds("-T", str(source), "-H", "Content-Type: application/octet-stream", put_url))
            gets.append(curl_seconds(bucket.sign_url("GET", key, 600)))
            target = work / "dd-file"
            dd_writes.append(dd_seconds("if=/dev/zero", f"of={target}", "bs=1M", f"count={size_mb}", "conv=fsync"))
            dd_reads.append(dd_seconds(f"if={target}", "of=/dev/null", "bs=1M"))
        rate = lambda seconds: size_mb / statistics.median(seconds)  # noqa: E731
        put, get, dd_write, dd_read = rate(puts), rate(gets), rate(dd_writes), rate(dd_reads)
        md5 = rate([md5_seconds(source) for _ in range(3)])
        ceiling = rate([sendfile_ceiling(source, rounds)])
        rows.append(f"| {size_mb} MB | {put:.0f} | {dd_write:.0f} | {put / dd_write:.2f} | {md5:.0f} "
                    f"| {get:.0f} | {dd_read:.0f} | {get / dd_read:.2f} | {ceiling:.0f} |")
    return rows


OBJECT_HEADER = """Objects through curl (presigned OSS URLs) beside dd on the same disk; MB/s, medians:

| object size | curl PUT | dd write (fsync) | ratio | MD5, one core | curl GET | dd read (page cache) | ratio | curl GET from a sendfile sender |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |"""


def start(work, bucket_name):
    """A server on a new data directory, its root keys, and a new bucket of it."""
    server = Server(work / "data")
    root = json.loads((server.data / "root-credentials.json").read_text())
    bucket = oss2.Bucket(oss2.Auth(root["AccessKeyId"], root["AccessKeySecret"]), server.url, bucket_name)
    bucket.create_bucket()
    return server, root, bucket


def objects_only(work):
    server, _, bucket = start(work, "objects")
    try:
        print(OBJECT_HEADER)
        for row in curl_objects(bucket, work):
            print(row)
    finally:
        server.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("seconds", nargs="?", type=float, default=60, help="seconds per client count")
    parser.add_argument("--objects-only", action="store_true", help="only the object PUT/GET table")
    options = parser.parse_args()
    seconds = options.seconds
    work = Path(tempfile.mkdtemp(dir=os.environ.get("VISAGE_BENCH_DIR", ROOT)))
    if options.objects_only:
        try:
            objects_only(work)
        finally:
            subprocess.run(["rm", "-rf", str(work)])
        return
    server, root, bucket = start(work, "load")
    try:
        keys = one_megapixel(bucket)
        imm = ImmClient(config(server, root["AccessKeyId"], root["AccessKeySecret"]))
        imm.create_project(imm_models.CreateProjectRequest(project_name="load"))
        for key in keys:  # warm-up: models loaded, caches filled
            imm.detect_image_faces(imm_models.DetectImageFacesRequest(project_name="load", source_uri=f"oss://load/{key}"))
        print(f"DetectImageFaces on {len(keys)} photos of about 1 MP, {seconds:.0f} s per row:\n")
        print("| clients | requests | per second | p50 ms | p99 ms | errors | /healthz p50 ms | /healthz p99 ms |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for clients in (1, 2, 4):
            latencies, errors, health = load(server, imm, keys, clients, seconds)
            print(f"| {clients} | {len(latencies)} | {len(latencies) / seconds:.1f} | {percentile(latencies, 0.5):.0f} | "
                  f"{percentile(latencies, 0.99):.0f} | {len(errors)} | {percentile(health, 0.5):.1f} | {percentile(health, 0.99):.1f} |")
            for error in sorted(set(errors))[:3]:
                print(f"<!-- {error} -->")
        print("\n" + OBJECT_HEADER)
        for row in curl_objects(bucket, work):
            print(row)
        # Every model in memory: the moderation networks load on their first request.
        rekognition.root_client(server, root).detect_moderation_labels(Image={"Bytes": bucket.get_object(keys[0]).read()})
        print(f"\nServer peak resident memory with every model loaded, after all of the above: {peak_rss_mb(server.process.pid):.0f} MB")
    finally:
        server.stop()
        subprocess.run(["rm", "-rf", str(work)])


if __name__ == "__main__":
    main()
