"""`visage bench faces --stages`: a short run on a few labelled photos, with the stage table."""
import json
import re
import shutil
import subprocess

from conftest import BINARY, ROOT, clean_env

SET = ROOT.parent / "shared" / "testdata" / "faces-east-asia"
STAGES = ["read", "decode", "detect", "landmarks", "embed", "attributes", "quality", "store"]


def test_stages_are_timed_and_add_up(tmp_path):
    manifest = json.loads((SET / "manifest.json").read_text())
    chosen = manifest["files"][:6]
    for entry in chosen:
        (tmp_path / entry["name"]).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(SET / entry["name"], tmp_path / entry["name"])
    (tmp_path / "manifest.json").write_text(json.dumps({"files": chosen}))
    result = subprocess.run([str(BINARY), "bench", "faces", "--stages", "--concurrency", "2", str(tmp_path)],
                            capture_output=True, text=True, env=clean_env(), check=True, timeout=600)
    out = result.stdout
    assert re.search(r"images 6, [0-9.]+ images/s, median \d+ ms per image, 2 at once", out), out
    shares = {}
    for stage in STAGES:
        row = re.search(rf"^\| {stage} \| (\d+) \| ([0-9.]+)% \| ([0-9.]+) \|$", out, re.MULTILINE)
        assert row, f"no row for {stage}:\n{out}"
        shares[stage] = float(row.group(2))
    # Every image has a face here, so the network stages took time; the shares cover the total.
    assert shares["detect"] > 0 and shares["embed"] > 0 and shares["decode"] > 0
    assert abs(sum(shares.values()) - 100) < 1
