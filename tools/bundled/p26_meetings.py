"""rlef/026 One Meeting Room: the most non-overlapping meetings (greedy by end)."""

NAME = "One Meeting Room"
DIFFICULTY = 2  # MEDIUM
CF_RATING = 1300
TAGS = ["greedy", "sortings"]
TIME_LIMIT_S = 2

STORY = """
An office has one meeting room and n requests; request i wants the room from
time s_i to time e_i. Two accepted meetings must not overlap, but one may start
exactly when another ends. Accept as many requests as possible.
"""
INPUT = """
The first line contains n (1 <= n <= 10^5). Each of the next n lines contains
s_i and e_i (0 <= s_i < e_i <= 10^9).
"""
OUTPUT = """
Print the largest number of requests that can be accepted.
"""
EXAMPLES = [("4\n1 3\n2 5\n3 6\n6 7\n", "3\n")]

CORRECT = [r'''
import sys
data = list(map(int, sys.stdin.read().split()))
meet = sorted(zip(data[2::2], data[1::2]))
count, free = 0, -1
for e, s in meet:
    if s >= free:
        count += 1
        free = e
print(count)
''', r'''
import sys
data = list(map(int, sys.stdin.read().split()))
meet = sorted(zip(data[1::2], data[2::2]), reverse=True)
count, limit = 0, float("inf")
for s, e in meet:
    if e <= limit:
        count += 1
        limit = s
print(count)
''']
INCORRECT = [r'''
import sys
data = list(map(int, sys.stdin.read().split()))
meet = sorted(zip(data[1::2], data[2::2]))
count, free = 0, -1
for s, e in meet:
    if s >= free:
        count += 1
        free = e
print(count)
''', r'''
import sys
data = list(map(int, sys.stdin.read().split()))
meet = sorted(zip(data[2::2], data[1::2]))
count, free = 0, -1
for e, s in meet:
    if s > free:
        count += 1
        free = e
print(count)
''']


def _case(meet):
  return f"{len(meet)}\n" + "".join(f"{s} {e}\n" for s, e in meet)


def _random(rng, n, hi, span):
  out = []
  for _ in range(n):
    s = rng.randint(0, hi - 1)
    out.append((s, min(hi, s + rng.randint(1, span))))
  return out


def private_inputs(rng):
  return [_case([(0, 10)]), _case([(0, 100), (1, 2), (3, 4), (5, 6)]),
          _case([(1, 2), (2, 3), (3, 4)]), _case([(1, 5), (1, 5), (1, 5)]),
          _case(_random(rng, 15, 50, 10))]


def generated_inputs(rng):
  return [_case(_random(rng, 3000, 10**9, 10**7)), _case(_random(rng, 2000, 5000, 40)),
          _case(_random(rng, 100, 300, 50))]
