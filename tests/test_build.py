"""BUILD names every module, script and test of the tree, with true deps."""

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import gen_build  # noqa: E402


def test_build_file_is_current():
  expected = gen_build.render()
  actual = (ROOT / "BUILD").read_text()
  assert actual == expected, "BUILD is stale: run `python tools/gen_build.py`"


def test_every_python_file_has_a_target():
  build = (ROOT / "BUILD").read_text()
  for path in gen_build._tree_files():
    if path.suffix == ".py" and path.parts[0] in ("rlef_jax", "sandbox_runner", "tests",
                                                   "benchmarks", "tools", "scripts"):
      assert f'srcs = ["{path}"]' in build, f"{path} has no BUILD target"


def test_deps_follow_imports():
  build = (ROOT / "BUILD").read_text()
  # This test imports tools/gen_build.py, so its target must depend on it.
  block = build.split('name = "tests/test_build"', 1)[1].split(")\n", 1)[0]
  assert '":tools/gen_build"' in block
