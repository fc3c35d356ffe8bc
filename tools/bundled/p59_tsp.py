"""rlef/059 Grand Tour: shortest round trip over all cities (bitmask DP)."""

NAME = "Grand Tour"
DIFFICULTY = 3  # HARD
CF_RATING = 2000
TAGS = ["bitmasks", "dp"]
TIME_LIMIT_S = 2

STORY = """
A travelling salesperson starts in city 1, must visit each of the other n - 1
cities exactly once and return to city 1. Travelling from city i to city j
costs d[i][j] (the costs need not be symmetric). Find the cheapest tour.
"""
INPUT = """
The first line contains n (2 <= n <= 12). Each of the next n lines contains n
integers; the j-th number of the i-th line is d[i][j] (0 <= d[i][j] <= 10^6,
d[i][i] = 0).
"""
OUTPUT = """
Print the minimum total cost of a tour.
"""
EXAMPLES = [("3\n0 1 10\n10 0 1\n1 10 0\n", "3\n"), ("2\n0 5\n7 0\n", "12\n")]

CORRECT = [r'''
import sys
data = list(map(int, sys.stdin.read().split()))
n = data[0]
d = [data[1 + i * n:1 + (i + 1) * n] for i in range(n)]
INF = float("inf")
full = 1 << n
best = [[INF] * n for _ in range(full)]
best[1][0] = 0
for mask in range(1, full, 2):
    row = best[mask]
    for j in range(n):
        c = row[j]
        if c == INF:
            continue
        dj = d[j]
        for k in range(1, n):
            if not mask >> k & 1:
                nxt = best[mask | 1 << k]
                if c + dj[k] < nxt[k]:
                    nxt[k] = c + dj[k]
print(min(best[full - 1][j] + d[j][0] for j in range(n)))
''', r'''
import sys
from functools import lru_cache
data = list(map(int, sys.stdin.read().split()))
n = data[0]
d = [data[1 + i * n:1 + (i + 1) * n] for i in range(n)]
full = (1 << n) - 1
@lru_cache(maxsize=None)
def rest(mask, j):
    if mask == full:
        return d[j][0]
    return min(d[j][k] + rest(mask | 1 << k, k) for k in range(n) if not mask >> k & 1)
print(rest(1, 0))
''']
INCORRECT = [r'''
import sys
data = list(map(int, sys.stdin.read().split()))
n = data[0]
d = [data[1 + i * n:1 + (i + 1) * n] for i in range(n)]
seen = {0}
cur = total = 0
while len(seen) < n:
    nxt = min((k for k in range(n) if k not in seen), key=lambda k: d[cur][k])
    total += d[cur][nxt]
    seen.add(nxt)
    cur = nxt
print(total + d[cur][0])
''', r'''
import sys
data = list(map(int, sys.stdin.read().split()))
n = data[0]
d = [data[1 + i * n:1 + (i + 1) * n] for i in range(n)]
INF = float("inf")
full = 1 << n
best = [[INF] * n for _ in range(full)]
best[1][0] = 0
for mask in range(1, full, 2):
    for j in range(n):
        if best[mask][j] == INF:
            continue
        for k in range(1, n):
            if not mask >> k & 1:
                nm = mask | 1 << k
                best[nm][k] = min(best[nm][k], best[mask][j] + d[j][k])
print(min(best[full - 1]))
''']
SLOW = [r'''
import sys
from itertools import permutations
data = list(map(int, sys.stdin.read().split()))
n = data[0]
d = [data[1 + i * n:1 + (i + 1) * n] for i in range(n)]
best = None
for order in permutations(range(1, n)):
    cost = d[0][order[0]] + d[order[-1]][0]
    for a, b in zip(order, order[1:]):
        cost += d[a][b]
    if best is None or cost < best:
        best = cost
print(best)
''']


def _case(d):
  return f"{len(d)}\n" + "".join(" ".join(map(str, row)) + "\n" for row in d)


def _random(rng, n, hi):
  return _case([[0 if i == j else rng.randint(0, hi) for j in range(n)] for i in range(n)])


def private_inputs(rng):
  return [_case([[0, 0], [0, 0]]), _case([[0, 1, 1], [1, 0, 1], [1, 1, 0]]),
          _case([[0, 1, 100, 1], [1, 0, 1, 100], [100, 1, 0, 1], [1, 100, 1, 0]]),
          _random(rng, 12, 10**6), _random(rng, 6, 20)]


def generated_inputs(rng):
  return [_random(rng, 12, 1000), _random(rng, 8, 10**6), _random(rng, 5, 10)]
