"""rlef/058 Busiest Moment: maximum number of overlapping intervals (sweep line)."""

NAME = "Busiest Moment"
DIFFICULTY = 3  # HARD
CF_RATING = 1500
TAGS = ["sortings", "greedy"]
TIME_LIMIT_S = 2

STORY = """
A museum logged n visits; visitor i entered at time a_i and left at time b_i.
A visitor is inside at every moment t with a_i <= t < b_i (so someone who
leaves at time 5 and someone who enters at time 5 are never inside together).
What is the largest number of visitors inside at the same moment?
"""
INPUT = """
The first line contains n (1 <= n <= 2*10^5). Each of the next n lines contains
a_i and b_i (0 <= a_i < b_i <= 10^9).
"""
OUTPUT = """
Print the largest number of visitors inside at once.
"""
EXAMPLES = [("3\n1 5\n2 6\n5 8\n", "2\n"), ("2\n0 10\n10 20\n", "1\n")]

CORRECT = [r'''
import sys
data = list(map(int, sys.stdin.read().split()))
events = []
for a, b in zip(data[1::2], data[2::2]):
    events.append((a, 1))
    events.append((b, -1))
events.sort()
best = cur = 0
for _, d in events:
    cur += d
    best = max(best, cur)
print(best)
''', r'''
import sys
from bisect import bisect_right
data = list(map(int, sys.stdin.read().split()))
starts = sorted(data[1::2])
ends = sorted(data[2::2])
best = 0
for t in starts:
    inside = bisect_right(starts, t) - bisect_right(ends, t)
    best = max(best, inside)
print(best)
''']
INCORRECT = [r'''
import sys
data = list(map(int, sys.stdin.read().split()))
events = []
for a, b in zip(data[1::2], data[2::2]):
    events.append((a, 1))
    events.append((b, -1))
events.sort(key=lambda e: (e[0], -e[1]))
best = cur = 0
for _, d in events:
    cur += d
    best = max(best, cur)
print(best)
''', r'''
import sys
data = list(map(int, sys.stdin.read().split()))
visits = sorted(zip(data[1::2], data[2::2]))
best = cur = 1
for i in range(1, len(visits)):
    cur = cur + 1 if visits[i][0] < visits[i - 1][1] else 1
    best = max(best, cur)
print(best)
''']
SLOW = [r'''
import sys
data = list(map(int, sys.stdin.read().split()))
visits = list(zip(data[1::2], data[2::2]))
best = 0
for t, _ in visits:
    inside = 0
    for a, b in visits:
        if a <= t < b:
            inside += 1
    best = max(best, inside)
print(best)
''']


def _case(visits):
  return f"{len(visits)}\n" + "".join(f"{a} {b}\n" for a, b in visits)


def _random(rng, n, hi, span):
  out = []
  for _ in range(n):
    a = rng.randint(0, hi - 1)
    out.append((a, min(hi, a + rng.randint(1, span))))
  return out


def private_inputs(rng):
  return [_case([(0, 1)]), _case([(1, 2), (2, 3), (3, 4)]), _case([(0, 100), (0, 100), (99, 100)]),
          _case([(5, 9), (1, 5), (5, 6), (4, 5)]), _case(_random(rng, 20, 30, 8))]


def generated_inputs(rng):
  return [_case(_random(rng, 8000, 10**9, 10**7)), _case(_random(rng, 2000, 1000, 50)),
          _case(_random(rng, 100, 100, 20))]
