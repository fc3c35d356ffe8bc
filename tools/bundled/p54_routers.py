"""rlef/054 Spread the Routers: maximise the minimum gap (binary search on the answer)."""

NAME = "Spread the Routers"
DIFFICULTY = 3  # HARD
CF_RATING = 1600
TAGS = ["binary search", "greedy", "sortings"]
TIME_LIMIT_S = 2

STORY = """
A long corridor has n sockets at distinct positions x_1, ..., x_n. You must
plug k Wi-Fi routers into k different sockets. Routers close to each other
interfere, so you want the smallest distance between two routers to be as
large as possible. What is that largest possible smallest distance?
"""
INPUT = """
The first line contains n and k (2 <= k <= n <= 2*10^5). The second line
contains n distinct integers x_1, ..., x_n (0 <= x_i <= 10^9), in any order.
"""
OUTPUT = """
Print the largest possible minimum distance between two routers.
"""
EXAMPLES = [("5 3\n1 2 8 4 9\n", "3\n"), ("2 2\n0 1000000000\n", "1000000000\n")]

CORRECT = [r'''
import sys
data = list(map(int, sys.stdin.read().split()))
n, k = data[0], data[1]
x = sorted(data[2:2 + n])
def fits(gap):
    count, last = 1, x[0]
    for p in x[1:]:
        if p - last >= gap:
            count += 1
            last = p
            if count >= k:
                return True
    return False
lo, hi = 1, (x[-1] - x[0]) // (k - 1)
while lo < hi:
    mid = (lo + hi + 1) // 2
    if fits(mid):
        lo = mid
    else:
        hi = mid - 1
print(lo)
''', r'''
import sys
from bisect import bisect_left
data = list(map(int, sys.stdin.read().split()))
n, k = data[0], data[1]
x = sorted(data[2:2 + n])
def placed(gap):
    count, i = 1, 0
    while count < k:
        i = bisect_left(x, x[i] + gap, i + 1)
        if i == n:
            return False
        count += 1
    return True
lo, hi = 1, 10**9
while lo <= hi:
    mid = (lo + hi) // 2
    if placed(mid):
        lo = mid + 1
    else:
        hi = mid - 1
print(hi)
''']
INCORRECT = [r'''
import sys
data = list(map(int, sys.stdin.read().split()))
n, k = data[0], data[1]
x = sorted(data[2:2 + n])
def fits(gap):
    count, last = 1, x[0]
    for p in x[1:]:
        if p - last > gap:
            count += 1
            last = p
    return count >= k
lo, hi = 1, x[-1] - x[0]
while lo < hi:
    mid = (lo + hi + 1) // 2
    if fits(mid):
        lo = mid
    else:
        hi = mid - 1
print(lo)
''', r'''
import sys
data = list(map(int, sys.stdin.read().split()))
n, k = data[0], data[1]
x = sorted(data[2:2 + n])
step = (n - 1) / (k - 1)
chosen = [x[round(i * step)] for i in range(k)]
print(min(b - a for a, b in zip(chosen, chosen[1:])))
''']
SLOW = [r'''
import sys
data = list(map(int, sys.stdin.read().split()))
n, k = data[0], data[1]
x = sorted(data[2:2 + n])
gap = 1
while True:
    count, last = 1, x[0]
    for p in x[1:]:
        if p - last >= gap + 1:
            count += 1
            last = p
    if count < k:
        break
    gap += 1
print(gap)
''']


def _case(k, xs):
  return f"{len(xs)} {k}\n{' '.join(map(str, xs))}\n"


def private_inputs(rng):
  return [_case(2, [5, 6]), _case(3, [0, 1, 2]), _case(2, [7, 0, 3]),
          _case(4, [0, 10, 11, 20, 21, 30]), _case(3, [0, 4, 5, 9, 10]),
          _case(rng.randint(2, 5), rng.sample(range(100), 12))]


def generated_inputs(rng):
  return [_case(10, rng.sample(range(10**9 + 1), 3000)),
          _case(500, rng.sample(range(10**6), 3000)), _case(7, rng.sample(range(1000), 60))]
