"""rlef/060 Snowfall: range additions, then the maximum (difference array)."""

NAME = "Snowfall"
DIFFICULTY = 3  # HARD
CF_RATING = 1500
TAGS = ["data structures", "implementation"]
TIME_LIMIT_S = 2

STORY = """
A valley is split into n plots numbered 1 to n, all without snow at first.
During the winter there are q snowfalls; snowfall j covers plots l_j to r_j
(inclusive) with s_j centimetres of fresh snow. At the end of the winter, how
deep is the snow on the deepest plot?
"""
INPUT = """
The first line contains n and q (1 <= n <= 10^6, 1 <= q <= 2*10^5). Each of the
next q lines contains l_j, r_j, s_j (1 <= l_j <= r_j <= n, 1 <= s_j <= 10^4).
"""
OUTPUT = """
Print the largest total snow depth over all plots.
"""
EXAMPLES = [("5 3\n1 3 2\n2 5 1\n3 3 4\n", "7\n")]

CORRECT = [r'''
import sys
from itertools import accumulate
data = list(map(int, sys.stdin.read().split()))
n, q = data[0], data[1]
diff = [0] * (n + 2)
for j in range(q):
    l, r, s = data[2 + 3 * j:5 + 3 * j]
    diff[l] += s
    diff[r + 1] -= s
print(max(accumulate(diff[1:n + 1])))
''', r'''
import sys
data = list(map(int, sys.stdin.read().split()))
n, q = data[0], data[1]
events = {}
for j in range(q):
    l, r, s = data[2 + 3 * j:5 + 3 * j]
    events[l] = events.get(l, 0) + s
    events[r + 1] = events.get(r + 1, 0) - s
depth = best = 0
for x in sorted(events):
    depth += events[x]
    best = max(best, depth)
print(best)
''']
INCORRECT = [r'''
import sys
from itertools import accumulate
data = list(map(int, sys.stdin.read().split()))
n, q = data[0], data[1]
diff = [0] * (n + 2)
for j in range(q):
    l, r, s = data[2 + 3 * j:5 + 3 * j]
    diff[l] += s
    diff[r] -= s
print(max(accumulate(diff[1:n + 1])))
''']
SLOW = [r'''
import sys
data = list(map(int, sys.stdin.read().split()))
n, q = data[0], data[1]
depth = [0] * (n + 1)
for j in range(q):
    l, r, s = data[2 + 3 * j:5 + 3 * j]
    for i in range(l, r + 1):
        depth[i] += s
print(max(depth[1:]))
''']


def _case(n, falls):
  return f"{n} {len(falls)}\n" + "".join(f"{l} {r} {s}\n" for l, r, s in falls)


def _random(rng, n, q, smax, wide=False):
  falls = []
  for _ in range(q):
    if wide:
      l = rng.randint(1, n // 2)
      r = rng.randint(n // 2, n)
    else:
      l = rng.randint(1, n)
      r = rng.randint(l, n)
    falls.append((l, r, rng.randint(1, smax)))
  return _case(n, falls)


def private_inputs(rng):
  return [_case(1, [(1, 1, 5)]), _case(3, [(1, 1, 1), (3, 3, 2)]), _case(4, [(1, 4, 1)] * 3),
          _case(10, [(1, 5, 3), (6, 10, 3), (5, 6, 1)]), _random(rng, 20, 10, 10)]


def generated_inputs(rng):
  return [_random(rng, 10**6, 3000, 10**4, wide=True), _random(rng, 1000, 2000, 100),
          _random(rng, 50, 20, 5)]
