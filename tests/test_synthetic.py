"""The synthetic problems: seeded, valid rows, held-out pairs, the real judge."""

import collections

import pytest

import sandbox_runner
from rlef_jax import demo
from rlef_jax.env import code as code_lib
from rlef_jax.data import schema
from rlef_jax.data import synthetic


@pytest.fixture(scope="module")
def rows():
  return {"train": synthetic.generate("train", 24, seed=0),
          "test": synthetic.generate("test", 12, seed=0)}


def test_same_seed_same_rows_other_seed_other_rows(rows):
  assert synthetic.generate("train", 24, seed=0) == rows["train"]
  other = synthetic.generate("train", 24, seed=1)
  assert [r["description"] for r in other] != [r["description"] for r in rows["train"]]


def test_rows_fit_the_schema_and_show_their_examples(rows):
  for row in rows["train"] + rows["test"]:
    assert schema.normalize(row) == row
    assert len(row["public_tests"]["input"]) == synthetic.NUM_PUBLIC
    assert 1 + synthetic.NUM_PRIVATE <= len(row["private_tests"]["input"]) <= 9
    shown = list(zip(row["public_tests"]["input"], row["public_tests"]["output"]))
    for inp, out in shown[:synthetic.NUM_SHOWN]:
      assert inp.rstrip("\n") in row["description"] and out.strip() in row["description"]
    for inp, _ in shown[synthetic.NUM_SHOWN:]:
      assert inp.rstrip("\n") not in row["description"]
    # The large test is last and only an O(n) program passes it in time.
    assert row["private_tests"]["input"][-1].startswith(f"{synthetic.LARGE_N} ")
    kinds = len(row["incorrect_solutions"]["solution"])
    assert kinds >= 3, row["name"]


def test_canonical_solutions_are_their_own_oracle(rows):
  for row in rows["train"][:8]:
    code = row["solutions"]["solution"][0]
    for split in ("public_tests", "private_tests"):
      for inp, out in zip(row[split]["input"], row[split]["output"]):
        assert synthetic.run_program(code, inp) == out


def test_held_out_pairs_split_train_from_test():
  train = [c for c, _ in synthetic.compositions("train", 400, seed=0)]
  test = [c for c, _ in synthetic.compositions("test", 100, seed=0)]
  assert not any(synthetic.held_out_pairs(c) for c in train)
  assert all(len(synthetic.held_out_pairs(c)) == 1 for c in test)
  assert not set(train) & set(test)
  # Every held-out pair occurs in the test split, and its part is trained in
  # some other position: the pair is new, the part is not.
  seen = collections.Counter(p for c in test for p in synthetic.held_out_pairs(c))
  assert set(seen) == synthetic.HELD_OUT
  trained = {pair for c in train for pair in c.pairs()}
  for part, position in synthetic.HELD_OUT:
    assert any(p == part and q != position for p, q in trained), part


def test_dev_split_is_the_training_grammar_without_training_compositions():
  train = {c.logic() for c, _ in synthetic.compositions("train", 600, seed=0)}
  train |= {c.logic() for c, _ in synthetic.compositions("train", 600, seed=1)}
  dev = [c for c, _ in synthetic.compositions("dev", 60, seed=0)]
  assert not any(synthetic.held_out_pairs(c) for c in dev)
  assert not {c.logic() for c in dev} & train
  assert all(synthetic.dev_bucket(c) for c in dev)


def test_the_empty_case_convention_is_left_to_the_feedback(rows):
  """The statement never says what to print when no number is left; the
  second public test (not shown) and one private test need it."""
  with_empty = [r for r in rows["train"] + rows["test"]
                if synthetic.composition_of(r).empty is not None]
  assert len(with_empty) >= len(rows["train"] + rows["test"]) // 2
  conventions = set()
  for row in with_empty:
    comp = synthetic.composition_of(row)
    conventions.add(comp.empty)
    assert "At least one number is left" not in row["description"]
    assert row["public_tests"]["output"][1] == comp.empty + "\n"
    assert comp.empty + "\n" in row["private_tests"]["output"]
    for word in ("NONE", "EMPTY"):
      assert word not in row["description"]
    # A program with another convention fails a public test: the feedback
    # shows the expected output.
    wrong = [b for b in row["incorrect_solutions"]["solution"]
             if "else:" in b and b.split("else:")[1] != row["solutions"]["solution"][0]
             .split("else:")[1] and b.split("else:")[0] == row["solutions"]["solution"][0]
             .split("else:")[0]]
    assert len(wrong) == 1, row["name"]
    text = demo.repair_feedback(row, wrong[0])
    assert f"Expected output `{comp.empty}\n`" in text
  assert conventions == set(synthetic.EMPTY_OUTPUTS)
  for row in rows["train"]:
    if synthetic.composition_of(row).empty is None:
      assert "At least one number is left" in row["description"]


def test_composition_round_trips_through_the_tags(rows):
  comps = [c for c, _ in synthetic.compositions("test", 12, seed=0)]
  assert [synthetic.composition_of(r) for r in rows["test"]] == comps


def test_parts_interact_in_the_code():
  comp = synthetic.Composition("map_map", "add_k", "square", "sum", "neg", "even")
  code = synthetic.program(comp)
  assert "b = [(x + k) * (x + k) for x in a]" in code
  assert 'print("YES" if s % 2 == 0 else "NO")' in code
  keep_map = synthetic.Composition("keep_map", "gt_k", "mod_k", "max", None, None)
  map_keep = synthetic.Composition("map_keep", "mod_k", "gt_k", "max", None, None)
  assert synthetic.program(keep_map) != synthetic.program(map_keep)


def test_sft_dialogs_hold_repairs_with_feedback(rows):
  dialogs = demo.build_sft_dialogs(rows["train"], repair_fraction=0.5, seed=0)
  assert len(dialogs) == len(rows["train"])
  repairs = [d for d in dialogs if len(d) == 4]
  assert 0 < len(repairs) < len(dialogs)
  for d in dialogs:
    assert d[-1]["content"] == code_lib.fence(
        next(r for r in rows["train"] if r["description"] in d[0]["content"])
        ["solutions"]["solution"][0])
  for d in repairs:
    assert d[2]["content"].startswith("Your code failed the following tests:")
  # Two failed attempts (an RLEF third turn's context), two different bugs.
  twice = [d for d in demo.build_sft_dialogs(rows["train"], repair_fraction=1.0,
                                            second_failure_fraction=1.0, seed=0)
           if len(d) == 6]
  assert len(twice) >= len(rows["train"]) // 2
  for d in twice:
    assert [m["role"] for m in d] == ["user", "assistant"] * 3
    assert d[1]["content"] != d[3]["content"]
    assert d[2]["content"].startswith("Your code failed") and d[4]["content"].startswith(
        "Your code failed")


def test_the_real_judge_accepts_solutions_and_rejects_bugs(rows):
  sample = rows["train"][:5] + rows["test"][:3]
  requests, expect = [], []
  for row in sample:
    requests.append(sandbox_runner.request_for_problem(
        row, row["solutions"]["solution"][0], tests=("public", "private")))
    expect.append(("accepted", row["name"]))
    for bug in row["incorrect_solutions"]["solution"][:-1]:  # the last is the slow one
      requests.append(sandbox_runner.request_for_problem(
          row, bug, tests=("public", "private"), stop_on_first_failure=True))
      expect.append(("rejected", row["name"]))
  for row in sample[:2]:
    slow = row["incorrect_solutions"]["solution"][-1]
    assert "for i in range(1, n + 1):" in slow
    requests.append(sandbox_runner.request_for_problem(
        row, slow, tests=("public", "private"), stop_on_first_failure=True))
    expect.append(("time_limit", row["name"]))
  # Feedback made in-process for the SFT data equals the sandbox's.
  repair = next(d for d in demo.build_sft_dialogs(sample, repair_fraction=1.0) if len(d) == 4)
  repair_row = next(r for r in sample if r["description"] in repair[0]["content"])
  bug = code_lib.unfence(repair[1]["content"])
  with sandbox_runner.Judge(max_workers=2) as judge:
    results = judge.run_batch(requests)
    real_feedback = demo.repair_feedback(repair_row, bug, judge=judge)
  for (want, name), result in zip(expect, results):
    if want == "accepted":
      assert result.verdict == "accepted", (name, result.to_json())
    elif want == "time_limit":
      assert result.verdict == "time_limit", (name, result.verdict)
      assert result.passed == result.total - 1  # correct on every small test
    else:
      assert result.verdict in ("wrong_answer", "runtime_error"), (name, result.verdict)
  assert real_feedback == repair[2]["content"]


def test_rows_without_the_large_test_are_otherwise_the_same(rows):
  small = synthetic.generate("train", 6, seed=0, large_test=False)
  for full, lite in zip(rows["train"], small):
    assert lite["description"] == full["description"]
    assert lite["private_tests"]["input"] == full["private_tests"]["input"][:-1]
    assert lite["incorrect_solutions"] == full["incorrect_solutions"]


def test_unfused_code_solves_the_same_problems_one_line_per_stage(rows):
  plain = synthetic.generate("test", 12, seed=0, fuse=False)
  for fused, row in zip(rows["test"], plain):
    # The problem is the same; only the code style differs.
    for key in ("description", "public_tests", "private_tests", "cf_tags"):
      assert row[key] == fused[key]
    code = row["solutions"]["solution"][0]
    assert sum(line.startswith("b = ") for line in code.splitlines()) == 2
    for split in ("public_tests", "private_tests"):
      for inp, out in zip(row[split]["input"][:-1], row[split]["output"][:-1]):
        assert synthetic.run_program(code, inp) == out
    # Its stored bugs are caught by the row's own tests, as the fused ones are.
    tests = list(zip(row["public_tests"]["input"] + row["private_tests"]["input"][:-1],
                     row["public_tests"]["output"] + row["private_tests"]["output"][:-1]))
    for bug in row["incorrect_solutions"]["solution"][:-1]:  # the last: too slow
      assert synthetic._catches(bug, *zip(*tests)), (row["name"], bug)  # pylint: disable=protected-access
