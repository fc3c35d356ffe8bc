"""rlef/055 Exact Budget Streaks: count subarrays with sum k (prefix sums + hash map)."""

NAME = "Exact Budget Streaks"
DIFFICULTY = 3  # HARD
CF_RATING = 1600
TAGS = ["data structures", "two pointers"]
TIME_LIMIT_S = 2

STORY = """
A household writes down the balance change of each of n days (it can be
negative). A streak is a block of one or more consecutive days. How many
streaks have a total change of exactly k?
"""
INPUT = """
The first line contains n and k (1 <= n <= 2*10^5, -10^9 <= k <= 10^9). The
second line contains n integers a_1, ..., a_n (-10^4 <= a_i <= 10^4).
"""
OUTPUT = """
Print the number of pairs l <= r with a_l + ... + a_r = k.
"""
EXAMPLES = [("5 3\n1 2 0 3 -3\n", "5\n"), ("3 0\n0 0 0\n", "6\n")]

CORRECT = [r'''
import sys
from collections import defaultdict
data = list(map(int, sys.stdin.read().split()))
n, k = data[0], data[1]
seen = defaultdict(int)
seen[0] = 1
prefix = count = 0
for x in data[2:2 + n]:
    prefix += x
    count += seen[prefix - k]
    seen[prefix] += 1
print(count)
''', r'''
import sys
from collections import Counter
from itertools import accumulate
data = list(map(int, sys.stdin.read().split()))
n, k = data[0], data[1]
prefix = [0] + list(accumulate(data[2:2 + n]))
total = 0
seen = Counter()
for p in prefix:
    total += seen[p - k]
    seen[p] += 1
print(total)
''']
INCORRECT = [r'''
import sys
data = list(map(int, sys.stdin.read().split()))
n, k = data[0], data[1]
a = data[2:2 + n]
count = total = left = 0
for right in range(n):
    total += a[right]
    while total > k and left < right:
        total -= a[left]
        left += 1
    if total == k:
        count += 1
print(count)
''', r'''
import sys
from collections import defaultdict
data = list(map(int, sys.stdin.read().split()))
n, k = data[0], data[1]
seen = defaultdict(int)
prefix = count = 0
for x in data[2:2 + n]:
    prefix += x
    count += seen[prefix - k]
    seen[prefix] += 1
print(count + (1 if sum(data[2:2 + n]) == k else 0))
''']
SLOW = [r'''
import sys
data = list(map(int, sys.stdin.read().split()))
n, k = data[0], data[1]
a = data[2:2 + n]
count = 0
for l in range(n):
    s = 0
    for r in range(l, n):
        s += a[r]
        if s == k:
            count += 1
print(count)
''']


def _case(k, values):
  return f"{len(values)} {k}\n{' '.join(map(str, values))}\n"


def private_inputs(rng):
  return [_case(5, [5]), _case(1, [5]), _case(0, [1, -1, 1, -1]), _case(-2, [-1, -1, -1]),
          _case(2, [2, 0, 0, 2]), _case(3, [rng.randint(-3, 3) for _ in range(30)])]


def generated_inputs(rng):
  return [_case(5, [rng.randint(-10, 10) for _ in range(15000)]),
          _case(rng.randint(-100, 100), [rng.randint(-10**4, 10**4) for _ in range(3000)]),
          _case(0, [rng.randint(-2, 2) for _ in range(100)])]
