"""Every face of a labelled photo set with its embedding, as `visage detect --raw` finds it, saved
as JSON for `visage bench cluster --labelled` and `visage bench cross-set`. Faces are labelled
as the clustering test labels them: the largest face of a one-person photo; group photos left to
right when the manifest lists them and the count matches. A saved file is reused while the
binary and the set's manifest are older than it, so tuning runs do not analyse the photos again.

Usage: labelled_faces.py OUT_DIR SET_DIR... (writes OUT_DIR/<set name>.json, prints the paths)."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BINARY = Path(os.environ.get("VISAGE_BINARY", ROOT / ".build" / "release" / "visage"))


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
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for folder in map(Path, sys.argv[2:]):
        target = out / f"{folder.name}.json"
        newest_input = max(BINARY.stat().st_mtime, (folder / "manifest.json").stat().st_mtime)
        if not target.exists() or target.stat().st_mtime < newest_input:
            target.write_text(json.dumps(faces_of(folder)))
        print(target)


if __name__ == "__main__":
    sys.exit(main())
