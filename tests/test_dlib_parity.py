"""Visage's landmarks and embeddings against dlib's own Python bindings on the same pixels.

Both sides read the same lossless PNG (converted once from the test photos) and the same face
boxes, so any difference comes from the landmark and embedding pipeline itself.
"""
import json
import subprocess

import pytest

from conftest import BINARY, ROOT, clean_env

BENCH_PYTHON = ROOT / ".venv-bench" / "bin" / "python"
SETS = [ROOT.parent / "shared" / "testdata" / name for name in ("faces", "faces-east-asia")]


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """Every photo of both sets as PNG, decoded with Pillow with EXIF orientation applied."""
    folder = tmp_path_factory.mktemp("png")
    script = (
        "import sys, pathlib\n"
        "from PIL import Image, ImageOps\n"
        "out = pathlib.Path(sys.argv[1])\n"
        "for i, path in enumerate(sys.argv[2:]):\n"
        "    ImageOps.exif_transpose(Image.open(path)).convert('RGB').save(out / f'{i:04d}.png')\n"
    )
    sources = []
    for folder_of_set in SETS:
        manifest = json.loads((folder_of_set / "manifest.json").read_text())
        sources += [str(folder_of_set / entry["name"]) for entry in manifest["files"]]
    subprocess.run([str(BENCH_PYTHON), "-c", script, str(folder), *sources], check=True, timeout=600)
    return sorted(folder.glob("*.png"))


def model_files():
    models = json.loads(subprocess.run([str(BINARY), "models", "--json"], capture_output=True, text=True,
                                       env=clean_env(), check=True).stdout)
    files = {model["name"]: model["file"] for model in models}
    return files["dlib-shape-predictor-68"], files["dlib-resnet-v1"]


def cosine(a, b):
    dot = sum(x * y for x, y in zip(a, b))
    return dot / (sum(x * x for x in a) ** 0.5 * sum(y * y for y in b) ** 0.5)


def test_landmarks_and_embeddings_match_dlib(photos):
    ours = []
    for start in range(0, len(photos), 40):
        batch = photos[start:start + 40]
        result = subprocess.run([str(BINARY), "detect", "--raw", *map(str, batch)], capture_output=True, text=True,
                                env=clean_env(), check=True, timeout=600)
        ours += [(path, json.loads(line)["Faces"]) for path, line in zip(batch, result.stdout.splitlines())]
    requests = "".join(json.dumps({"image": str(path), "boxes": [face["LandmarkBox"] for face in faces]}) + "\n"
                       for path, faces in ours)
    reference = subprocess.run([str(BENCH_PYTHON), str(ROOT / "tests" / "reference" / "dlib_reference.py"), *model_files()],
                               input=requests, capture_output=True, text=True, check=True, timeout=1200)
    theirs = [json.loads(line)["faces"] for line in reference.stdout.splitlines()]
    assert len(theirs) == len(ours)

    compared = 0
    worst_cosine, worst_offset = 1.0, 0.0
    for (path, faces), expected in zip(ours, theirs):
        for face, dlib_face in zip(faces, expected, strict=True):
            offset = max(max(abs(a - b) for a, b in zip(p, q)) for p, q in zip(face["Landmarks"], dlib_face["landmarks"]))
            similarity = cosine(face["Embedding"], dlib_face["embedding"])
            worst_offset, worst_cosine = max(worst_offset, offset), min(worst_cosine, similarity)
            assert offset <= 1, f"{path.name}: landmarks {offset} px from dlib's"
            assert similarity >= 0.999, f"{path.name}: embedding cosine {similarity:.5f} against dlib's"
            compared += 1
    print(f"parity over {compared} faces: worst landmark offset {worst_offset} px, worst embedding cosine {worst_cosine:.6f}")
    assert compared > 150
