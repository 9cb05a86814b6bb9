"""People from faces on both labelled photo sets: dlib's chinese-whispers clustering (threshold
0.5, the peer) of the same embeddings Visage indexes (`visage detect --raw`). Faces are
labelled as the clustering test labels them (largest face of a one-person photo; group photos
left to right). Prints pairwise precision/recall and people found per set. With --save DIR,
also writes the labelled faces of each set to DIR/<set>.json for `visage bench cluster --labelled`.
Run with .venv-bench/bin/python (Benchmarks/setup-peer)."""
import collections
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import dlib

ROOT = Path(__file__).resolve().parent.parent
BINARY = ROOT / ".build" / "release" / "visage"
SETS = {"faces": ROOT.parent / "shared" / "testdata" / "faces",
        "faces-east-asia": ROOT.parent / "shared" / "testdata" / "faces-east-asia"}


def faces_of(folder):
    entries = json.loads((folder / "manifest.json").read_text())["files"]
    out = []
    for start in range(0, len(entries), 20):
        chunk = entries[start:start + 20]
        result = subprocess.run([str(BINARY), "detect", "--raw", *[str(folder / e["name"]) for e in chunk]],
                                capture_output=True, text=True, check=True, env=dict(os.environ, VISAGE_INFERENCE_THREADS="1"))
        for entry, line in zip(chunk, result.stdout.splitlines()):
            found = json.loads(line).get("Faces") or []
            faces = [dict(photo=entry["name"], identity=None, emb=f["Embedding"], box=f["Boundary"], pose=f["HeadPose"],
                          quality=f["FaceQuality"]) for f in found]
            if entry.get("identity") and faces:
                max(faces, key=lambda f: f["box"]["Width"] * f["box"]["Height"])["identity"] = entry["identity"]
            elif entry.get("faces_left_to_right") and len(entry["faces_left_to_right"]) == len(faces):
                ordered = sorted(faces, key=lambda f: f["box"]["Left"] + f["box"]["Width"] / 2)
                for face, identity in zip(ordered, entry["faces_left_to_right"]):
                    face["identity"] = identity
            out += faces
    return out


def main():
    save = Path(sys.argv[sys.argv.index("--save") + 1]) if "--save" in sys.argv else None
    for name, folder in SETS.items():
        faces = faces_of(folder)
        if save:
            (save / f"{name}.json").write_text(json.dumps(faces))
        labels = dlib.chinese_whispers_clustering([dlib.vector(f["emb"]) for f in faces], 0.5)
        sizes = collections.Counter(labels)
        labelled = [(f["identity"], labels[i], f["photo"]) for i, f in enumerate(faces) if f["identity"]]
        tp = fp = positives = 0
        for (ia, ca, _), (ib, cb, _) in itertools.combinations(labelled, 2):
            positives += ia == ib
            if ca == cb and sizes[ca] > 1:
                tp += ia == ib
                fp += ia != ib
        photos = collections.defaultdict(set)
        for i, label in enumerate(labels):
            photos[label].add(faces[i]["photo"])
        people = sum(1 for p in photos.values() if len(p) >= 3)
        precision = tp / (tp + fp) if tp + fp else 1.0
        print(f"{name}: chinese whispers 0.5: pairwise precision {precision:.3f} recall {tp / positives:.3f}, "
              f"{people} people (clusters over 3+ photos), {len(faces)} faces")


if __name__ == "__main__":
    sys.exit(main())
