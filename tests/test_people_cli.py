"""`visage cluster` and `visage people`: people from an indexed folder, at a terminal."""
import json
import re
import shutil

from conftest import ROOT, run_cli

FACES = ROOT.parent / "shared" / "testdata" / "faces"
PEOPLE = {"angelina_jolie": 4, "katy_perry": 4}


def test_cluster_then_people(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    entries = json.loads((FACES / "manifest.json").read_text())["files"]
    for identity, count in PEOPLE.items():
        for entry in [e for e in entries if e.get("identity") == identity][:count]:
            shutil.copy(FACES / entry["name"], folder / entry["name"].replace("/", "_"))
    data = tmp_path / "data"
    before = run_cli("people", "--project", "family", "--dataset", "album", data=data, check=False)
    assert before.returncode != 0 and b"Error: no data directory at" in before.stderr and not data.exists()
    run_cli("index", str(folder), "--project", "family", "--dataset", "album", "--no-progress", data=data)
    assert b"No people yet" in run_cli("people", "--project", "family", "--dataset", "album", data=data).stdout

    out = run_cli("cluster", "--project", "family", "--dataset", "album", "--no-progress", data=data).stdout.decode()
    assert re.search(r"^2 new people, 0 people grew, \d+ faces placed", out), out
    listing = run_cli("people", "--project", "family", "--dataset", "album", data=data).stdout.decode().splitlines()
    assert listing[0].split()[:3] == ["ID", "PHOTOS", "FACES"]
    rows = [line.split() for line in listing[1:]]
    assert sorted(row[0] for row in rows) == ["Cluster-1", "Cluster-2"]
    assert all(3 <= int(row[1]) <= 4 and row[3] == "(unnamed)" and row[4].startswith("oss://visage-index/album/")
               for row in rows), listing
    # Nothing new: the second run changes nothing.
    again = run_cli("cluster", "--project", "family", "--dataset", "album", "--no-progress", data=data).stdout.decode()
    assert again.startswith("0 new people, 0 people grew, 0 faces placed"), again

    # A stricter threshold, previewed: every person would dissolve; nothing is written.
    dry = run_cli("cluster", "--project", "family", "--dataset", "album", "--rebuild", "--dry-run", "--threshold", "0.2",
                  data=data).stdout.decode()
    lines = dry.splitlines()
    assert lines[0].split()[:4] == ["CHANGE", "PERSON", "FACES", "INTO"], dry
    assert sorted(line.split()[1] for line in lines[1:-1] if line.startswith("dissolved")) == ["Cluster-1", "Cluster-2"], dry
    assert lines[-1].startswith("0 created, 0 merged, 0 split, 2 dissolved") and lines[-1].endswith("nothing written (dry run)."), dry
    assert run_cli("people", "--project", "family", "--dataset", "album", data=data).stdout.decode().splitlines() == listing
    # The same settings as the run: nothing to change.
    same = run_cli("cluster", "--project", "family", "--dataset", "album", "--rebuild", data=data).stdout.decode()
    assert same.strip().endswith("0 faces move; nothing to apply."), same
    refused = run_cli("cluster", "--project", "family", "--dataset", "album", "--dry-run", data=data, check=False)
    assert refused.returncode != 0 and b"--dry-run previews a --rebuild" in refused.stderr
