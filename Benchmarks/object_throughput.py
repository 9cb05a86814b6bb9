"""Object API throughput through oss2 against dd on the same disk, and the per-request cost of
authentication (signature, STS token, policy) measured end to end. Prints Markdown."""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import oss2
from alibabacloud_sts20150401 import models as sts_models
from alibabacloud_sts20150401.client import Client as StsClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from alibaba import app_user, config, root_ram, seed_role  # noqa: E402
from conftest import Server  # noqa: E402

MB = 1024 * 1024


def median_rate(sizes_and_seconds):
    return statistics.median(size / seconds / MB for size, seconds in sizes_and_seconds)


def timed(action):
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def dd(path, size_mb, rounds):
    """dd write (fsync'd, as the object store fsyncs) and read of the same size, in MB/s."""
    writes, reads = [], []
    for _ in range(rounds):
        writes.append((size_mb * MB, timed(lambda: subprocess.run(
            ["dd", "if=/dev/zero", f"of={path}", "bs=1M", f"count={size_mb}", "conv=fsync"], capture_output=True, check=True))))
        reads.append((size_mb * MB, timed(lambda: subprocess.run(
            ["dd", f"if={path}", "of=/dev/null", "bs=1M"], capture_output=True, check=True))))
    os.unlink(path)
    return median_rate(writes), median_rate(reads)


def main():
    work = Path(tempfile.mkdtemp(dir=os.environ.get("VISAGE_BENCH_DIR", Path(__file__).resolve().parent.parent)))
    server = Server(work / "data")
    try:
        root, ram = root_ram(server)
        bucket = oss2.Bucket(oss2.Auth(root["AccessKeyId"], root["AccessKeySecret"]), server.url, "bench")
        bucket.create_bucket()
        print("| object size | PUT MB/s (Visage, oss2) | dd write MB/s | ratio | GET MB/s (Visage, oss2) | GET MB/s (Visage, curl) | dd read MB/s | ratio (oss2) |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for size_mb, rounds in ((1, 40), (64, 5)):
            payload = os.urandom(size_mb * MB)
            puts = [(len(payload), timed(lambda i=i: bucket.put_object(f"o{size_mb}-{i}", payload))) for i in range(rounds)]
            gets = [(len(payload), timed(lambda i=i: bucket.get_object(f"o{size_mb}-{i}").read())) for i in range(rounds)]
            # The same objects fetched by curl from presigned URLs: the server without Python on the client side.
            curls = [(len(payload), timed(lambda i=i: subprocess.run(
                ["curl", "-sf", "-o", "/dev/null", bucket.sign_url("GET", f"o{size_mb}-{i}", 600)], check=True)))
                for i in range(rounds)]
            dd_write, dd_read = dd(work / "dd.bin", size_mb, rounds)
            put, get, curl = median_rate(puts), median_rate(gets), median_rate(curls)
            print(f"| {size_mb} MB | {put:.0f} | {dd_write:.0f} | {put / dd_write:.2f} | {get:.0f} | {curl:.0f} | {dd_read:.0f} "
                  f"| {get / dd_read:.2f} |")

        key = app_user(ram)
        role = seed_role(ram, root["AccountId"])
        sts = StsClient(config(server, key.access_key_id, key.access_key_secret))
        creds = sts.assume_role(sts_models.AssumeRoleRequest(role_arn=role.arn, role_session_name="bench")).body.credentials
        temporary = StsClient(config(server, creds.access_key_id, creds.access_key_secret, creds.security_token))
        long_term = StsClient(config(server, key.access_key_id, key.access_key_secret))
        import requests
        session = requests.Session()
        rounds = 300
        health = [timed(lambda: session.get(server.url + "/healthz", timeout=10)) for _ in range(rounds)]
        sts_calls = [timed(lambda: temporary.get_caller_identity()) for _ in range(rounds)]
        key_calls = [timed(lambda: long_term.get_caller_identity()) for _ in range(rounds)]
        upload = oss2.Bucket(oss2.StsAuth(creds.access_key_id, creds.access_key_secret, creds.security_token), server.url, "bench")
        denied = []
        for _ in range(rounds):
            start = time.perf_counter()
            try:
                upload.put_object("not-in-uploads", b"x")
            except oss2.exceptions.AccessDenied:
                pass
            denied.append(time.perf_counter() - start)
        us = lambda values: statistics.median(values) * 1e6
        print()
        print(f"| request ({rounds} each, one client) | median µs | over /healthz |")
        print("| --- | --- | --- |")
        print(f"| GET /healthz (no authentication, one store read) | {us(health):.0f} | |")
        for label, values in (("GetCallerIdentity, ACS3 signature, long-term key", key_calls),
                              ("GetCallerIdentity, ACS3 signature + STS token", sts_calls),
                              ("PutObject refused by policy, OSS V1 + STS token", denied)):
            print(f"| {label} | {us(values):.0f} | {us(values) - us(health):.0f} |")
    finally:
        server.stop()
        subprocess.run(["rm", "-rf", str(work)])


if __name__ == "__main__":
    main()
