"""The bundled problems: schema, completeness, determinism, and the judge agrees.

The gVisor test is the acceptance check of the set: every correct solution is
accepted on all tests and every incorrect one is rejected, in one batch.
"""

import collections
import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from rlef_jax.data import problems
from rlef_jax.data import schema

ROOT = pathlib.Path(__file__).resolve().parent.parent
TEST_KINDS = ("public_tests", "private_tests", "generated_tests")
MAX_INPUT_BYTES = 200_000
MAX_TOTAL_BYTES = 6_000_000


@pytest.fixture(scope="module")
def rows():
  return {split: problems.bundled_problems(split) for split in ("train", "test")}


def _all(rows):
  return rows["train"] + rows["test"]


def test_counts_split_and_difficulty_mix(rows):
  assert len(rows["train"]) >= 45 and len(rows["test"]) >= 15
  names = [r["name"] for r in _all(rows)]
  assert len(set(names)) == len(names) >= 60
  numbers = sorted(int(n.split()[0].split("/")[1]) for n in names)
  assert numbers == list(range(1, len(names) + 1))
  for split, split_rows in rows.items():
    counts = collections.Counter(r["difficulty"] for r in split_rows)
    assert set(counts) == {1, 2, 3}, f"{split} lacks a difficulty: {counts}"
  counts = collections.Counter(r["difficulty"] for r in _all(rows))
  assert counts[1] >= 20 and counts[2] >= 20 and counts[3] >= 15, counts


def test_rows_are_exactly_the_schema(rows):
  for split in ("train", "test"):
    path = ROOT / "rlef_jax" / "data" / "bundled" / f"{split}.jsonl"
    raw = [json.loads(line) for line in path.read_text().splitlines()]
    for row in raw:
      assert list(row) == list(schema.FIELDS), row["name"]
      assert schema.normalize(row) == row, row["name"]
  total = sum((ROOT / "rlef_jax" / "data" / "bundled" / f"{s}.jsonl").stat().st_size
              for s in ("train", "test"))
  assert total < MAX_TOTAL_BYTES


def test_every_problem_is_complete(rows):
  for row in _all(rows):
    name, text = row["name"], row["description"]
    for heading in ("\n\nInput\n\n", "\n\nOutput\n\n", "\n\nExample"):
      assert heading in text, f"{name}: no {heading.strip()!r} section"
    public = row["public_tests"]
    assert 1 <= len(public["input"]) <= 3, name
    for given in public["input"]:
      assert given.strip() in text, f"{name}: public test not shown in the statement"
    assert len(row["private_tests"]["input"]) >= 4, name
    assert len(row["generated_tests"]["input"]) >= 2, name
    for kind in TEST_KINDS:
      for given, expected in zip(row[kind]["input"], row[kind]["output"]):
        assert len(given.encode()) < MAX_INPUT_BYTES, f"{name}: {kind} input too large"
        assert expected.strip(), f"{name}: empty expected output in {kind}"
    assert len(row["solutions"]["solution"]) >= 1, name
    assert len(row["incorrect_solutions"]["solution"]) >= 1, name
    assert set(row["solutions"]["language"] + row["incorrect_solutions"]["language"]) == {3}
    assert row["source"] == 0 and row["difficulty"] in (1, 2, 3), name
    assert row["time_limit"]["seconds"] >= 1 and row["memory_limit_bytes"] == 256 << 20, name


def test_make_bundled_check_reproduces_the_files():
  proc = subprocess.run([sys.executable, str(ROOT / "tools" / "make_bundled.py"), "--check"],
                        capture_output=True, text=True, timeout=300)
  assert proc.returncode == 0, proc.stderr[-2000:]


@pytest.mark.gvisor
@pytest.mark.slow
def test_gvisor_judge_accepts_every_correct_and_rejects_every_incorrect(rows):
  if shutil.which("runsc") is None:
    pytest.skip("gVisor's runsc is not on PATH")
  if os.geteuid() != 0:
    pytest.skip("runsc sandboxes need root here")
  import sandbox_runner  # pylint: disable=g-import-not-at-top

  jobs = []
  for row in _all(rows):
    for i, code in enumerate(row["solutions"]["solution"]):
      jobs.append((f"{row['name']} correct #{i}", True,
                   sandbox_runner.request_for_problem(row, code, tests="all")))
    for i, code in enumerate(row["incorrect_solutions"]["solution"]):
      jobs.append((f"{row['name']} incorrect #{i}", False,
                   sandbox_runner.request_for_problem(row, code, tests="all",
                                                      stop_on_first_failure=True)))
  # Slow and wrong programs first, so their time-limit waits overlap the rest.
  jobs.sort(key=lambda job: job[1])
  with sandbox_runner.Judge(backend="gvisor", max_workers=4) as judge:
    results = judge.run_batch([request for _, _, request in jobs])
  failures = []
  for (label, correct, _), result in zip(jobs, results):
    verdict = result.verdict.value
    if verdict == "infra_error" or (verdict == "accepted") != correct:
      slowest = max((t.time_s for t in result.tests), default=0.0)
      failures.append(f"{label}: {verdict} ({result.passed}/{result.total} passed, "
                      f"slowest test {slowest:.2f} s)")
  assert not failures, "\n".join(failures)
