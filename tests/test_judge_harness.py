"""The harness's parsers and cleanup on their own (no sandbox): total on any
input, capped, and undefeatable by a file tree."""

import json
import os
import random

from sandbox_runner import harness

NONCE = b"0123456789abcdef0123456789abcdef"


def _line(record, nonce=NONCE) -> bytes:
  return nonce + b" " + json.dumps(record).encode() + b"\n"


def test_report_needs_the_nonce():
  assert harness.parse_report(_line({"done": True}), NONCE)["done"] is True
  forged = _line({"done": True}, b"f" * 32) + b'{"done": true}\n' + _line({"done": True})[1:]
  assert harness.parse_report(forged, NONCE) == {"done": False}


def test_report_is_combined_conservatively():
  both = _line({"done": True}) + _line({"done": False, "exception": "AssertionError",
                                        "in_tests": True, "traceback": "tb"})
  out = harness.parse_report(both, NONCE)
  assert out["done"] is False and out["exception"] == "AssertionError" and out["in_tests"]


def test_report_parse_is_total():
  rng = random.Random(0)
  deep = b"[" * 100_000
  near = b"[" * 990 + b"]" * 990
  inputs = [deep, NONCE + b" " + deep, NONCE + b" " + near, NONCE + b' {"done": ' + near + b"}",
            NONCE + b' {"exception": ' + near + b', "traceback": 7, "in_tests": "yes"}',
            NONCE + b" \xff\xfe", NONCE + b" " + b"1" * 10_000, NONCE + b" null", b"\n" * 1000]
  inputs += [bytes(rng.randrange(256) for _ in range(rng.randrange(200))) for _ in range(200)]
  inputs += [NONCE + b" " + bytes(rng.randrange(256) for _ in range(50)) for _ in range(200)]
  for data in inputs:
    out = harness.parse_report(data, NONCE)
    assert isinstance(out, dict) and isinstance(out["done"], bool)
    assert all(isinstance(out.get(k, ""), str) for k in ("exception", "traceback"))
    json.dumps(out)  # What the harness forwards is flat and serialisable.


def test_empty_dir_deep_tree_within_two_descriptors(tmp_path):
  # Deeper than PATH_MAX as one path, and than RLIMIT_NOFILE if one fd per level.
  fd = os.open(tmp_path, os.O_RDONLY)
  for _ in range(3000):
    os.mkdir("d", dir_fd=fd)
    child = os.open("d", os.O_RDONLY, dir_fd=fd)
    os.close(fd)
    fd = child
  os.close(os.open("f", os.O_CREAT | os.O_WRONLY, dir_fd=fd))
  os.close(fd)
  before = len(os.listdir("/proc/self/fd"))
  assert harness.empty_dir(str(tmp_path), [10**6, float("inf")])
  assert os.listdir(tmp_path) == []
  assert len(os.listdir("/proc/self/fd")) == before


def test_empty_dir_follows_no_link_and_undoes_modes(tmp_path):
  outside = tmp_path / "outside"
  outside.mkdir()
  (outside / "keep").write_text("x")
  scratch = tmp_path / "scratch"
  (scratch / "locked" / "inner").mkdir(parents=True)
  (scratch / "locked" / "inner" / "f").write_text("x")
  os.symlink(outside, scratch / "link_dir")
  os.symlink(outside / "keep", scratch / "locked" / "inner" / "link_file")
  os.symlink(scratch / "loop", scratch / "loop")
  os.mkfifo(scratch / "fifo")
  for d in (scratch / "locked" / "inner", scratch / "locked"):
    os.chmod(d, 0)
  assert harness.empty_dir(str(scratch), [10**6, float("inf")])
  assert os.listdir(scratch) == [] and (outside / "keep").read_text() == "x"


def test_empty_dir_reports_an_exhausted_budget(tmp_path):
  for i in range(50):
    (tmp_path / f"f{i}").write_text("x")
  assert harness.empty_dir(str(tmp_path), [10, float("inf")]) is False
  assert harness.empty_dir(str(tmp_path), [10**6, float("inf")]) is True
