"""Object PUT/GET through Visage with its bytes in an S3 server (moto on loopback), beside boto3
talking to the same S3 server directly. Prints Markdown."""
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import s3  # noqa: E402
from alibaba import root_ram  # noqa: E402
from conftest import Server, clean_env  # noqa: E402
from object_throughput import MB, median_rate, timed  # noqa: E402
from s3backend import MotoServer, new_bucket, s3_env  # noqa: E402


def main():
    work = Path(tempfile.mkdtemp(dir=os.environ.get("VISAGE_BENCH_DIR", Path(__file__).resolve().parent.parent)))
    moto = MotoServer()
    server = None
    try:
        new_bucket(moto, "visage-bytes")
        new_bucket(moto, "direct")
        server = Server(work / "data", env=clean_env(**s3_env(moto.url, "visage-bytes")))
        root, _ = root_ram(server)
        through = s3.root_client(server, root)
        through.create_bucket(Bucket="bench")
        direct = moto.client()
        print("| object size | PUT MB/s via Visage | PUT MB/s direct | GET MB/s via Visage | GET MB/s direct |")
        print("| --- | --- | --- | --- | --- |")
        for size_mb, rounds in ((1, 20), (16, 3)):
            payload = os.urandom(size_mb * MB)
            rows = {}
            for name, client, bucket in (("visage", through, "bench"), ("direct", direct, "direct")):
                puts = [(len(payload), timed(lambda i=i: client.put_object(Bucket=bucket, Key=f"o-{size_mb}-{i}", Body=payload)))
                        for i in range(rounds)]
                gets = [(len(payload), timed(lambda i=i: client.get_object(Bucket=bucket, Key=f"o-{size_mb}-{i}")["Body"].read()))
                        for i in range(rounds)]
                rows[name] = (median_rate(puts), median_rate(gets))
            print(f"| {size_mb} MB | {rows['visage'][0]:.0f} | {rows['direct'][0]:.0f} | {rows['visage'][1]:.0f} | {rows['direct'][1]:.0f} |")
    finally:
        if server:
            server.stop()
        moto.stop()
        subprocess.run(["rm", "-rf", str(work)])


if __name__ == "__main__":
    main()
