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


def _graph(build: str) -> dict[str, list[str]]:
  graph = {}
  for block in build.split("\n\n"):
    if 'name = "' not in block:
      continue
    name = block.split('name = "', 1)[1].split('"', 1)[0]
    deps = block.split("deps = [", 1)[1].split("]", 1)[0] if "deps = [" in block else ""
    graph[name] = [line.strip().strip('",')[1:] for line in deps.splitlines()
                   if line.strip().startswith('":')]
  return graph


def test_dependency_graph_is_acyclic_and_closed():
  graph = _graph((ROOT / "BUILD").read_text())
  assert "rlef_jax/models/llama" in graph
  state: dict[str, int] = {}

  def visit(node, trail):
    assert node in graph, f"{trail[-1]} depends on unknown target {node}"
    if state.get(node) == 2:
      return
    assert state.get(node) != 1, "import cycle: " + " -> ".join(trail + [node])
    state[node] = 1
    for dep in graph[node]:
      visit(dep, trail + [node])
    state[node] = 2

  for node in graph:
    visit(node, [])
