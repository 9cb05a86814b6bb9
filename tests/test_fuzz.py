"""A short run of every fuzz target (Benchmarks/fuzz runs them for ten minutes each), and a check
that the driver catches a crash and keeps the input that caused it."""
import struct
import subprocess

from conftest import ROOT

DRIVER = ROOT / ".build" / "debug" / "visage-fuzz"


def test_every_parser_survives_a_short_fuzz_run():
    done = subprocess.run([str(ROOT / "Benchmarks" / "fuzz"), "5"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    lines = [line for line in done.stdout.splitlines() if line.endswith("no crash")]
    assert len(lines) == 8, done.stdout
    for line in lines:
        runs = int(line.split(": ")[1].split()[0])
        assert runs > 500, line  # it really ran inputs, beyond the saved ones


def test_a_crash_is_caught_with_its_input(tmp_path):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    (inputs / "fine").write_bytes(b"harmless")
    (inputs / "zz-crash").write_bytes(b"CRASH here")
    done = subprocess.run([str(DRIVER), "self-check", "--inputs", str(inputs)], cwd=tmp_path, capture_output=True, timeout=120)
    assert done.returncode != 0
    kept = (tmp_path / ".fuzz-last-input-self-check").read_bytes()
    (size,) = struct.unpack("<Q", kept[:8])
    assert kept[8:8 + size] == b"CRASH here"
    # Without the crashing input the same run passes and leaves nothing behind.
    (inputs / "zz-crash").unlink()
    done = subprocess.run([str(DRIVER), "self-check", "--inputs", str(inputs), "--seconds", "1"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "no crash" in done.stdout
    assert not (tmp_path / ".fuzz-last-input-self-check").exists()
