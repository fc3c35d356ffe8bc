"""rlef/025 Painted Fence: total length of a union of segments."""

NAME = "Painted Fence"
DIFFICULTY = 2  # MEDIUM
CF_RATING = 1200
TAGS = ["sortings", "greedy"]
TIME_LIMIT_S = 2

STORY = """
Volunteers painted a long fence. Volunteer i painted everything between marks
l_i and r_i. Some parts were painted several times. What total length of the
fence is painted at least once?
"""
INPUT = """
The first line contains n (1 <= n <= 10^5). Each of the next n lines contains
l_i and r_i (0 <= l_i < r_i <= 10^9).
"""
OUTPUT = """
Print the total length of the union of the segments [l_i, r_i].
"""
EXAMPLES = [("3\n1 4\n6 8\n3 5\n", "6\n"), ("2\n0 2\n2 3\n", "3\n")]

CORRECT = [r'''
import sys
data = list(map(int, sys.stdin.read().split()))
n = data[0]
segs = sorted(zip(data[1::2], data[2::2]))
total = 0
cur_l, cur_r = segs[0]
for l, r in segs[1:]:
    if l > cur_r:
        total += cur_r - cur_l
        cur_l, cur_r = l, r
    else:
        cur_r = max(cur_r, r)
print(total + cur_r - cur_l)
''', r'''
import sys
data = list(map(int, sys.stdin.read().split()))
events = []
for l, r in zip(data[1::2], data[2::2]):
    events.append((l, 1))
    events.append((r, -1))
events.sort()
total = depth = 0
prev = 0
for x, d in events:
    if depth > 0:
        total += x - prev
    depth += d
    prev = x
print(total)
''']
INCORRECT = [r'''
import sys
data = list(map(int, sys.stdin.read().split()))
segs = list(zip(data[1::2], data[2::2]))
total = 0
cur_l, cur_r = segs[0]
for l, r in segs[1:]:
    if l > cur_r or r < cur_l:
        total += cur_r - cur_l
        cur_l, cur_r = l, r
    else:
        cur_l, cur_r = min(cur_l, l), max(cur_r, r)
print(total + cur_r - cur_l)
''', r'''
import sys
data = list(map(int, sys.stdin.read().split()))
segs = sorted(zip(data[1::2], data[2::2]))
total = 0
cur_l, cur_r = segs[0]
for l, r in segs[1:]:
    if l > cur_r:
        total += cur_r - cur_l
        cur_l, cur_r = l, r
    else:
        cur_r = r
print(total + cur_r - cur_l)
''']


def _case(segs):
  return f"{len(segs)}\n" + "".join(f"{l} {r}\n" for l, r in segs)


def _random(rng, n, hi, span):
  out = []
  for _ in range(n):
    l = rng.randint(0, hi - 1)
    out.append((l, min(hi, l + rng.randint(1, span))))
  return out


def private_inputs(rng):
  return [_case([(0, 10**9)]), _case([(1, 10), (2, 3)]), _case([(5, 6), (1, 2), (3, 4)]),
          _case([(1, 3), (3, 5), (5, 7)]), _case([(0, 5), (10, 12), (4, 11)]),
          _case(_random(rng, 20, 100, 10))]


def generated_inputs(rng):
  return [_case(_random(rng, 3000, 10**9, 10**6)), _case(_random(rng, 1000, 10**4, 30)),
          _case(_random(rng, 50, 1000, 300))]
