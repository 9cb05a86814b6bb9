"""People from faces on both labelled photo sets: dlib's chinese-whispers clustering (threshold
0.5, the peer) of the same embeddings Visage indexes (`visage detect --raw`). Faces are
labelled as the clustering test labels them (largest face of a one-person photo; group photos
left to right). Prints pairwise precision/recall and people found per set. With --save DIR,
also writes the labelled faces of each set to DIR/<set>.json for `visage bench cluster --labelled`.
Run with .venv-bench/bin/python (Benchmarks/setup-peer)."""
import collections
import itertools
import json
import sys
from pathlib import Path

import dlib

from labelled_faces import faces_of  # the same labelling as the cross-set benchmark

ROOT = Path(__file__).resolve().parent.parent
SETS = {"faces": ROOT.parent / "shared" / "testdata" / "faces",
        "faces-east-asia": ROOT.parent / "shared" / "testdata" / "faces-east-asia"}


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
