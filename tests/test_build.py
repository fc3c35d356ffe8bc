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


# --- the layering (docs/design.md): facts read from the import lines -------------


def _module_imports() -> dict[str, set[str]]:
  """{module: the project modules and third-party tops it imports, anywhere in the file}."""
  modules = {gen_build._module_name(p): p for p in gen_build._tree_files()  # pylint: disable=protected-access
             if p.suffix == ".py" and p.parts[0] == "rlef_jax"}
  out = {}
  for name, path in modules.items():
    found = set()
    for candidates in gen_build._imports(path):  # pylint: disable=protected-access
      module = next((c for c in candidates if c in modules), None)
      found.add(module if module is not None else candidates[-1].split(".")[0])
    found.discard(name)
    out[name] = found
  return out


def _under(module: str, *packages: str) -> bool:
  return any(module == p or module.startswith(p + ".") for p in packages)


def test_the_loops_know_nothing_of_gin_or_the_edge():
  edge = ("rlef_jax.launch", "rlef_jax.main", "rlef_jax.jobs", "gin")
  for module, deps in _module_imports().items():
    if _under(module, "rlef_jax.rl", "rlef_jax.env", "rlef_jax.evaluation", "rlef_jax.models"):
      bad = sorted(d for d in deps if _under(d, *edge))
      assert not bad, f"{module} imports {bad}: jobs build, the loop receives (rlef_jax/jobs.py)"


def test_rooms_import_only_downward():
  rules = {
      # the model owns its sharding vocabulary and knows no caller
      "rlef_jax.models": ("rlef_jax.rl", "rlef_jax.env", "rlef_jax.evaluation", "rlef_jax.sharding",
                          "rlef_jax.sampling", "rlef_jax.checkpoints", "rlef_jax.data",
                          "rlef_jax.rollouts"),
      "rlef_jax.env": ("rlef_jax.rl", "rlef_jax.evaluation"),
      "rlef_jax.rollouts": ("rlef_jax.env", "rlef_jax.rl", "rlef_jax.models"),
      "rlef_jax.sharding": ("rlef_jax.rl", "rlef_jax.env", "rlef_jax.sampling"),
      "rlef_jax.data": ("rlef_jax.env", "rlef_jax.rl", "rlef_jax.evaluation"),
  }
  graph = _module_imports()
  assert "rlef_jax.models.partitioning" in graph and "rlef_jax.rollouts" in graph
  for module, deps in graph.items():
    for room, forbidden in rules.items():
      if _under(module, room):
        bad = sorted(d for d in deps if _under(d, *forbidden))
        assert not bad, f"{module} imports {bad}"


def test_function_local_imports_are_few_and_say_why():
  import ast  # pylint: disable=import-outside-toplevel
  local = []
  for path in gen_build._tree_files():  # pylint: disable=protected-access
    if path.suffix != ".py" or path.parts[0] != "rlef_jax":
      continue
    lines = (ROOT / path).read_text().split("\n")
    tree = ast.parse("\n".join(lines))
    for fn in ast.walk(tree):
      if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
        for node in ast.walk(fn):
          if isinstance(node, (ast.Import, ast.ImportFrom)):
            local.append(f"{path}:{node.lineno}")
            above = [l.strip() for l in lines[max(node.lineno - 3, 0):node.lineno - 1]]
            assert any(l.startswith("# Local import:") for l in above), \
                f"{path}:{node.lineno}: a function-local import needs a '# Local import: why' line"
  assert 0 < len(local) < 20, local
