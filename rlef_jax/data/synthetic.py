"""Seeded synthetic stdin/stdout problems for the CPU demo, in the row layout.

Every problem reads `n k` and a list `a`, runs it through a composition of
parts and prints one line:

  elem1, elem2   two element stages, each a filter (a predicate, `PREDICATES`)
                 or a map (a unary operation, `UNARY`); a stage works on what
                 the stage before it left (keep-then-map and map-then-keep
                 differ), and the canonical code fuses them (one
                 comprehension, `x > k and x % 2 == 0`, `(x + k) * (x + k)`)
  agg            an aggregate of the remaining numbers (`AGGREGATES`)
  post           optionally, a unary operation on the aggregate
  verdict        optionally, a predicate on the result: print YES / NO

A part (`square`, `even`, ...) can stand in several positions, and the same
words name it everywhere; the code differs by position (`x * x` inside a
comprehension, `s = s * s` after the aggregate, `"YES" if s % 2 == 0`). The
held-out split is made of whole part-in-position pairs (`HELD_OUT`): no
training problem holds any of them, every test problem holds exactly one, and
each held-out part still occurs in training in its other positions. Solving a
test problem needs a part written in a position where it was never seen.

Each row has two public examples (shown in the statement), a few small
private tests and one large private test (n = `LARGE_N`) that only an O(n)
program passes in time, one canonical solution, and buggy variants as
`incorrect_solutions` (off-by-one, wrong operation, wrong output format, too
slow), each checked here to fail on the row's own tests (the too-slow one by
construction: it is quadratic in n).

Example:

    from rlef_jax.data import synthetic
    rows = synthetic.generate("train", 100, seed=0)   # same seed, same rows
    test = synthetic.generate("test", 20, seed=0)     # held-out compositions
    print(rows[0]["description"], rows[0]["solutions"]["solution"][0])
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import io
import random
from typing import Any, Callable, Sequence

import numpy as np
from sandbox_runner import compare

from rlef_jax.data import schema

PYTHON3 = 3
# Bumped whenever the same (split, num, seed) would give other rows.
# 2: two public tests (the second not shown), the unstated empty-case output,
# the dev split, repairs with two failed attempts.
GENERATOR_VERSION = 2
# train: the RLEF pool and the warm start's data; dev: new problems of the
# training grammar (compositions `train` never holds, chosen by a hash of the
# composition); test: compositions with one held-out part-in-position pair.
SPLITS = ("train", "dev", "test")
DEV_BUCKETS = 10  # one composition in DEV_BUCKETS of the training grammar is dev
LARGE_N = 20000
# Held-out problems keep their parts apart from training by pairs, not by
# seed: the split is the same for every seed.
TIME_LIMIT = {"seconds": 1, "nanos": 0}
MEMORY_LIMIT_BYTES = 256 << 20
NUM_PUBLIC = 2
# Public tests the statement shows as its examples; the others are run by the
# judge (and reported in the feedback) but not shown: for a composition that
# can leave no number, the second public test is such an input.
NUM_SHOWN = 1
NUM_PRIVATE = 4
# What to print when no number is left: a per-problem convention the
# statement does not state. Only a failed test's feedback (or luck) reveals it.
EMPTY_OUTPUTS = ("-1", "0", "NONE", "EMPTY")
VALUE_RANGE = (-9, 9)
K_RANGE = (2, 5)
N_RANGE = (1, 5)


@dataclasses.dataclass(frozen=True)
class Unary:
  """A unary operation: `words` with `{obj}`, `code` with `{v}`."""
  name: str
  words: str
  code: str
  sibling: str  # the "wrong operation" bug swaps in this one


@dataclasses.dataclass(frozen=True)
class Predicate:
  """A test on one number: words for many numbers / one number, code."""
  name: str
  plural: str
  singular: str
  code: str
  sibling: str
  # The off-by-one bug: the code with its boundary moved, if it has one.
  off_by_one: str | None = None


@dataclasses.dataclass(frozen=True)
class Aggregate:
  name: str
  words: str
  code: str  # with `{b}` for the list
  sibling: str


UNARY = {u.name: u for u in (
    Unary("add_k", "adds k to {obj}", "{v} + k", "sub_k"),
    Unary("sub_k", "subtracts k from {obj}", "{v} - k", "add_k"),
    Unary("mul_k", "multiplies {obj} by k", "{v} * k", "add_k"),
    Unary("square", "squares {obj}", "{v} * {v}", "mul_k"),
    Unary("neg", "negates {obj}", "-{v}", "abs"),
    Unary("abs", "replaces {obj} by its absolute value", "abs({v})", "neg"),
    Unary("mod_k", "replaces {obj} by its remainder modulo k", "{v} % k", "half"),
    Unary("half", "halves {obj}, rounding down", "{v} // 2", "mod_k"),
)}
PREDICATES = {p.name: p for p in (
    Predicate("even", "are even", "is even", "{v} % 2 == 0", "odd"),
    Predicate("odd", "are odd", "is odd", "{v} % 2 == 1", "even"),
    Predicate("positive", "are positive", "is positive", "{v} > 0", "negative",
              "{v} >= 0"),
    Predicate("negative", "are negative", "is negative", "{v} < 0", "positive",
              "{v} <= 0"),
    Predicate("gt_k", "are greater than k", "is greater than k", "{v} > k",
              "lt_k", "{v} >= k"),
    Predicate("lt_k", "are less than k", "is less than k", "{v} < k", "gt_k",
              "{v} <= k"),
    Predicate("div_k", "are divisible by k", "is divisible by k", "{v} % k == 0",
              "ndiv_k"),
    Predicate("gt_first", "are greater than a_1", "is greater than a_1",
              "{v} > a[0]", "gt_k", "{v} >= a[0]"),
)}
AGGREGATES = {g.name: g for g in (
    Aggregate("sum", "sum", "sum({b})", "max"),
    Aggregate("max", "largest", "max({b})", "min"),
    Aggregate("min", "smallest", "min({b})", "max"),
    Aggregate("first", "first", "{b}[0]", "last"),
    Aggregate("last", "last", "{b}[-1]", "first"),
    Aggregate("range", "difference between the largest and the smallest",
              "max({b}) - min({b})", "sum"),
)}
# ndiv_k only as the wrong-operation sibling of div_k.
_NDIV = Predicate("ndiv_k", "are not divisible by k", "is not divisible by k",
                  "{v} % k != 0", "div_k")

POSITIONS = ("elem1", "elem2", "post", "verdict")
# (part, position) pairs no training problem holds. Every held-out part keeps
# at least one training position of its kind (maps: elem1, elem2, post;
# predicates: elem1, elem2, verdict).
HELD_OUT = frozenset({
    ("square", "post"), ("mod_k", "elem2"), ("neg", "elem1"),
    ("add_k", "post"), ("even", "verdict"), ("gt_k", "elem2"),
    ("div_k", "elem1"), ("gt_first", "verdict"),
})
SHAPES = ("keep_map", "map_keep", "keep_keep", "map_map")

_STORIES = (
    ("Alice has n integers a_1, ..., a_n and a number k.", "She"),
    ("A robot got n integers a_1, ..., a_n and a number k.", "It"),
    ("Bob wrote n integers a_1, ..., a_n and a number k.", "He"),
)


@dataclasses.dataclass(frozen=True)
class Composition:
  """One problem's parts: two element stages, aggregate, post, verdict."""
  shape: str
  elem1: str
  elem2: str
  agg: str
  post: str | None
  verdict: str | None
  # EMPTY_OUTPUTS entry printed when no number is left (None: a composition
  # that always leaves a number).
  empty: str | None = None

  def logic(self) -> tuple:
    """The composition without its output convention."""
    return (self.shape, self.elem1, self.elem2, self.agg, self.post, self.verdict)

  def pairs(self) -> set[tuple[str, str]]:
    out = {(self.elem1, "elem1"), (self.elem2, "elem2")}
    if self.post:
      out.add((self.post, "post"))
    if self.verdict:
      out.add((self.verdict, "verdict"))
    return out

  def stage_kinds(self) -> tuple[str, str]:
    return {"keep_map": ("keep", "map"), "map_keep": ("map", "keep"),
            "keep_keep": ("keep", "keep"), "map_map": ("map", "map")}[self.shape]


def held_out_pairs(comp: Composition) -> set[tuple[str, str]]:
  return comp.pairs() & HELD_OUT


def sample_composition(rng: random.Random) -> Composition:
  shape = rng.choice(SHAPES)
  kinds = {"keep_map": ("keep", "map"), "map_keep": ("map", "keep"),
           "keep_keep": ("keep", "keep"), "map_map": ("map", "map")}[shape]
  parts = []
  for kind in kinds:
    pool = sorted(PREDICATES) if kind == "keep" else sorted(UNARY)
    parts.append(rng.choice([p for p in pool if p not in parts]))
  post = rng.choice(sorted(UNARY)) if rng.random() < 0.6 else None
  verdict = rng.choice(sorted(PREDICATES)) if rng.random() < 0.35 else None
  agg = rng.choice(sorted(AGGREGATES))
  comp = Composition(shape, parts[0], parts[1], agg, post, verdict, rng.choice(EMPTY_OUTPUTS))
  return comp if can_be_empty(comp) else dataclasses.replace(comp, empty=None)


def dev_bucket(comp: Composition) -> bool:
  """Whether a training-grammar composition belongs to `dev` (stable hash)."""
  digest = hashlib.sha256(repr(comp.logic()).encode()).digest()
  return digest[0] % DEV_BUCKETS == 0


def in_split(comp: Composition, split: str) -> bool:
  held = held_out_pairs(comp)
  if split == "test":
    return len(held) == 1
  return not held and dev_bucket(comp) == (split == "dev")


# ---------------------------------------------------------------- code


def _wrap(v: str) -> str:
  return v if v.isidentifier() or v.lstrip("-").isdigit() else f"({v})"


def _unary(name: str, v: str) -> str:
  return UNARY[name].code.format(v=_wrap(v))


def _pred(name: str, v: str, code: str | None = None) -> str:
  pred = PREDICATES.get(name) or _NDIV
  return (code or pred.code).format(v=_wrap(v))


@dataclasses.dataclass(frozen=True)
class _Variant:
  """Knobs that turn the canonical program into a buggy one."""
  swap: str | None = None        # a part name replaced by its sibling
  off_by_one: str | None = None  # a predicate (position) with a moved boundary
  skip_first: bool = False       # iterate over a[1:]
  bad_format: bool = False
  quadratic: bool = False
  empty: str | None = None       # another EMPTY_OUTPUTS entry than the problem's


def program(comp: Composition, bug: _Variant = _Variant(), fuse: bool = True) -> str:
  """The Python source of `comp`, canonical unless `bug` says otherwise.

  `fuse=True` writes the two element stages as one comprehension or one
  condition (a part's code depends on its position); `fuse=False` writes one
  line per stage, each working on what the line before left (the stages
  still interact; the post and verdict positions still differ in code).
  """

  def part(name, position):
    if bug.swap == position:
      sib = (UNARY.get(name) or PREDICATES.get(name) or AGGREGATES[name]).sibling
      return sib
    return name

  def pred(name, position, v):
    code = None
    if bug.off_by_one == position:
      code = PREDICATES[name].off_by_one
    return _pred(part(name, position), v, code)

  src = "a[1:]" if bug.skip_first else "a"
  if bug.quadratic:
    src = "a[:i]"
  k1, k2 = comp.stage_kinds()
  p1, p2 = comp.elem1, comp.elem2
  if not fuse:
    lines = []
    for i, (kind, name, position) in enumerate(((k1, p1, "elem1"), (k2, p2, "elem2"))):
      source = src if i == 0 else "b"
      if kind == "keep":
        lines.append(f"b = [x for x in {source} if {pred(name, position, 'x')}]")
      else:
        lines.append(f"b = [{_unary(part(name, position), 'x')} for x in {source}]")
  elif (k1, k2) == ("keep", "map"):
    lines = [f"b = [{_unary(part(p2, 'elem2'), 'x')} for x in {src} "
             f"if {pred(p1, 'elem1', 'x')}]"]
  elif (k1, k2) == ("map", "keep"):
    lines = [f"b = [{_unary(part(p1, 'elem1'), 'x')} for x in {src}]",
             f"b = [x for x in b if {pred(p2, 'elem2', 'x')}]"]
  elif (k1, k2) == ("keep", "keep"):
    lines = [f"b = [x for x in {src} if {pred(p1, 'elem1', 'x')} "
             f"and {pred(p2, 'elem2', 'x')}]"]
  else:
    inner = _unary(part(p1, "elem1"), "x")
    lines = [f"b = [{_unary(part(p2, 'elem2'), inner)} for x in {src}]"]
  if bug.quadratic:
    lines = ["for i in range(1, n + 1):"] + ["  " + line for line in lines]
  agg = part(comp.agg, "agg")
  tail = ["s = " + AGGREGATES[agg].code.format(b="b")]
  if comp.post:
    tail.append("s = " + _unary(part(comp.post, "post"), "s"))
  if comp.verdict:
    if bug.bad_format:
      tail.append(f"print({pred(comp.verdict, 'verdict', 's')})")
    else:
      tail.append(f'print("YES" if {pred(comp.verdict, "verdict", "s")} else "NO")')
  else:
    tail.append('print("Answer:", s)' if bug.bad_format else "print(s)")
  if comp.empty is not None:
    empty = bug.empty or comp.empty
    literal = empty if empty.lstrip("-").isdigit() else f'"{empty}"'
    tail = ["if b:"] + ["  " + line for line in tail] + ["else:", f"  print({literal})"]
  lines += tail
  head = ["n, k = map(int, input().split())", "a = list(map(int, input().split()))"]
  return "\n".join(head + lines) + "\n"


def _variants(comp: Composition) -> list[tuple[str, _Variant]]:
  """Candidate bugs, most telling first; the caller keeps those tests catch."""
  out = []
  for position in ("elem1", "elem2", "verdict"):
    name = getattr(comp, position)
    if name in PREDICATES and PREDICATES[name].off_by_one:
      out.append(("off_by_one", _Variant(off_by_one=position)))
      break
  out.append(("off_by_one", _Variant(skip_first=True)))
  for position in ("post", "elem2", "elem1", "agg"):
    if getattr(comp, position, None) or position == "agg":
      out.append(("wrong_operation", _Variant(swap=position)))
  out.append(("wrong_format", _Variant(bad_format=True)))
  if comp.empty is not None:
    other = EMPTY_OUTPUTS[(EMPTY_OUTPUTS.index(comp.empty) + 1) % len(EMPTY_OUTPUTS)]
    out.append(("wrong_empty", _Variant(empty=other)))
  return out


@functools.lru_cache(maxsize=1024)
def _compiled(code: str):
  return compile(code, "solution.py", "exec")


def run_program(code: str, stdin: str) -> str:
  """Runs trusted generated code in-process (the generator's own oracle)."""
  lines = iter(stdin.splitlines())
  out = io.StringIO()
  env = {"input": lambda: next(lines), "__builtins__": __builtins__}
  with contextlib.redirect_stdout(out):
    exec(_compiled(code), env)  # pylint: disable=exec-used
  return out.getvalue()


# -------------------------------------------------------------- statement


def describe(comp: Composition, rng: random.Random) -> tuple[str, str]:
  """(legend, output sentence) of the statement, in CodeContests style."""
  story, subj = rng.choice(_STORIES)
  sentences = [story]
  for i, (kind, name) in enumerate(zip(comp.stage_kinds(), (comp.elem1, comp.elem2))):
    lead = subj if i == 0 else f"Then {subj.lower()}"
    if kind == "keep":
      sentences.append(f"{lead} keeps only the numbers that {PREDICATES[name].plural}.")
    else:
      sentences.append(f"{lead} " + UNARY[name].words.format(obj="every number") + ".")
  sentences.append(f"Let s be the {AGGREGATES[comp.agg].words} of the numbers left.")
  if comp.post:
    sentences.append(f"Then {subj.lower()} " + UNARY[comp.post].words.format(obj="s") + ".")
  if comp.verdict:
    output = f"Print YES if s {PREDICATES[comp.verdict].singular}, and NO otherwise."
  else:
    output = "Print s."
  return " ".join(sentences), output


def _statement(legend: str, output: str, examples: Sequence[tuple[str, str]],
               never_empty: bool = True) -> str:
  guarantee = " At least one number is left." if never_empty else ""
  parts = [legend, "", "Input", "",
           f"A line with n and k, a line with a_1, ..., a_n (1 <= n <= {LARGE_N}, "
           f"{K_RANGE[0]} <= k <= {K_RANGE[1]}, {VALUE_RANGE[0]} <= a_i <= "
           f"{VALUE_RANGE[1]}).{guarantee}",
           "", "Output", "", output, "", "Example"]
  for inp, out in examples:
    parts += ["", "Input", "", inp.rstrip("\n"), "", "Output", "", out.rstrip("\n")]
  return "\n".join(parts) + "\n"


# ---------------------------------------------------------------- tests


def _reference(comp: Composition) -> Callable[[int, list[int]], list[int] | None]:
  """The kept numbers of an input, or None when none remain."""
  code = program(dataclasses.replace(comp, empty=None))
  body = code.split("\n")[2:]
  stages = "\n".join(line for line in body if line.startswith("b = "))
  compiled = compile(stages, "<stages>", "exec")

  def kept(k, a):
    env = {"k": k, "a": a, "abs": abs}
    exec(compiled, env)  # pylint: disable=exec-used
    return env["b"] or None
  return kept


def _inputs(comp: Composition, rng: random.Random, count: int,
            n_range=N_RANGE, empty: bool = False) -> list[str]:
  """`count` distinct inputs that leave some number (`empty`: that leave none)."""
  kept, out, tries = _reference(comp), [], 0
  while len(out) < count:
    tries += 1
    if tries > 2000:
      raise RuntimeError(f"no valid input for {comp}")
    n = rng.randint(*n_range)
    k = rng.randint(*K_RANGE)
    if n > 100:  # the large test: numpy draws it (same values for a seed)
      a = np.random.default_rng(rng.getrandbits(64)).integers(
          VALUE_RANGE[0], VALUE_RANGE[1] + 1, n).tolist()
    else:
      a = [rng.randint(*VALUE_RANGE) for _ in range(n)]
    if (kept(k, a) is None) != empty:
      continue
    text = f"{n} {k}\n{' '.join(map(str, a))}\n"
    if text not in out:
      out.append(text)
  return out


def can_be_empty(comp: Composition, tries: int = 200) -> bool:
  """Whether some small input leaves no number (seeded: the same answer each call)."""
  if comp.stage_kinds() == ("map", "map"):
    return False
  kept, rng = _reference(comp), random.Random("empty/" + repr(comp.logic()))
  for _ in range(tries):
    n, k = rng.randint(*N_RANGE), rng.randint(*K_RANGE)
    if kept(k, [rng.randint(*VALUE_RANGE) for _ in range(n)]) is None:
      return True
  return False


def interesting(comp: Composition, tries: int = 60) -> bool:
  """Whether random inputs often satisfy the guarantee and answers vary.

  Drops compositions that can keep nothing (`x % k`, then negatives) or
  whose answer hardly depends on the input (a constant would pass).
  """
  rng = random.Random(repr(dataclasses.replace(comp, empty=None)))
  kept, code, answers, valid = _reference(comp), program(comp), set(), 0
  for _ in range(tries):
    n, k = rng.randint(*N_RANGE), rng.randint(*K_RANGE)
    a = [rng.randint(*VALUE_RANGE) for _ in range(n)]
    if kept(k, a) is not None:
      valid += 1
      answers.add(run_program(code, f"{n} {k}\n{' '.join(map(str, a))}\n"))
  return valid >= tries // 4 and len(answers) >= (2 if comp.verdict else 4)


def _catches(code: str, inputs: Sequence[str], outputs: Sequence[str]) -> bool:
  for inp, want in zip(inputs, outputs):
    try:
      got = run_program(code, inp)
    except Exception:  # pylint: disable=broad-except
      return True
    if not compare.outputs_match(got, want):
      return True
  return False


def make_problem(comp: Composition, rng: random.Random, name: str,
                 large_test: bool = True, fuse: bool = True) -> dict[str, Any]:
  """A full row for `comp`: statement, tests, solution, caught buggy variants.

  `large_test=False` leaves out the large private test (rows for SFT data,
  which never judges private tests); everything else is the same. `fuse`:
  the code style of the solution and the bugs (`program`).
  """
  canonical = program(comp, fuse=fuse)
  if comp.empty is None:
    small = _inputs(comp, rng, NUM_PUBLIC + NUM_PRIVATE)
    public, private = small[:NUM_PUBLIC], small[NUM_PUBLIC:]
  else:  # the second public test and one private test leave no number
    small = _inputs(comp, rng, NUM_SHOWN + NUM_PRIVATE)
    edge = _inputs(comp, rng, 2, empty=True)
    public = small[:NUM_SHOWN] + edge[:1]
    private = small[NUM_SHOWN:] + edge[1:]
    small = small + edge
  # Extra candidates, added to the private tests only when a bug needs them.
  spare = _inputs(comp, rng, 12)
  spare = [s for s in spare if s not in small]
  outputs = {s: run_program(canonical, s) for s in small + spare}
  incorrect = []
  seen_kinds = set()
  for kind, bug in _variants(comp):
    if kind in seen_kinds:
      continue
    code = program(comp, bug, fuse)
    if code == canonical:
      continue
    tests = public + private
    if not _catches(code, tests, [outputs[t] for t in tests]):
      extra = next((s for s in spare if _catches(code, [s], [outputs[s]])), None)
      if extra is None:
        continue  # indistinguishable on these inputs: not a bug worth storing
      private.append(extra)
      spare.remove(extra)
    incorrect.append(code)
    seen_kinds.add(kind)
  legend, output = describe(comp, rng)
  private_out = [outputs[t] for t in private]
  if large_test:
    large = _inputs(comp, rng, 1, n_range=(LARGE_N, LARGE_N))[0]
    private, private_out = private + [large], private_out + [run_program(canonical, large)]
  incorrect.append(program(comp, _Variant(quadratic=True), fuse))
  return schema.normalize({
      "name": name,
      "description": _statement(legend, output,
                                [(t, outputs[t]) for t in public[:NUM_SHOWN]],
                                never_empty=comp.empty is None),
      "public_tests": {"input": public, "output": [outputs[t] for t in public]},
      "private_tests": {"input": private, "output": private_out},
      "solutions": {"language": [PYTHON3], "solution": [canonical]},
      "incorrect_solutions": {"language": [PYTHON3] * len(incorrect),
                              "solution": incorrect},
      "cf_tags": ["synthetic", comp.shape, *sorted(f"{p}@{q}" for p, q in comp.pairs()),
                  f"{comp.agg}@agg", *([f"{comp.empty}@empty"] if comp.empty else [])],
      "difficulty": 1,
      "time_limit": dict(TIME_LIMIT),
      "memory_limit_bytes": MEMORY_LIMIT_BYTES,
  })


def composition_of(row: dict[str, Any]) -> Composition:
  """Reads a generated row's composition back from its tags."""
  tags = row["cf_tags"]
  pos = {}
  for tag in tags[2:]:
    part, where = tag.split("@")
    pos[where] = part
  return Composition(tags[1], pos["elem1"], pos["elem2"], pos["agg"],
                     pos.get("post"), pos.get("verdict"), pos.get("empty"))


def compositions(split: str, num: int, seed: int = 0) -> list[tuple[Composition, random.Random]]:
  """`num` distinct compositions of `split` with their per-problem generators."""
  if split not in SPLITS:
    raise ValueError(f"split must be one of {SPLITS}, not {split!r}")
  rng = random.Random(f"rlef-synthetic/{split}/{seed}")
  out, seen = [], set()
  while len(out) < num:
    comp = sample_composition(rng)
    if comp.logic() in seen or not in_split(comp, split) or not interesting(comp):
      continue
    seen.add(comp.logic())
    out.append((comp, random.Random(rng.getrandbits(64))))
  return out


def generate(split: str, num: int, seed: int = 0,
             large_test: bool = True, fuse: bool = True) -> list[dict[str, Any]]:
  """`num` problems of `split` ("train" or "test"); deterministic in `seed`.

  `fuse`: the solutions' code style (`program`); the problems (statements,
  tests) do not depend on it.

  Names are `synthetic/{split}/{seed}/{index}`. Train and test problems share
  no part-in-position pair of `HELD_OUT` (test problems hold exactly one).
  """
  return [make_problem(comp, prng, f"synthetic/{split}/{seed}/{i:05d}", large_test, fuse)
          for i, (comp, prng) in enumerate(compositions(split, num, seed))]
