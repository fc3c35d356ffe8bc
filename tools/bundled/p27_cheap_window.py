"""rlef/027 Longest Walk on a Budget: longest window with sum at most S."""

NAME = "Longest Walk on a Budget"
DIFFICULTY = 2  # MEDIUM
CF_RATING = 1300
TAGS = ["two pointers", "binary search"]
TIME_LIMIT_S = 2

STORY = """
A street has n shops in a row; shop i sells a snack for c_i coins. You want to
walk along a block of consecutive shops and buy one snack in each, spending at
most S coins in total. What is the longest block you can afford?
"""
INPUT = """
The first line contains n and S (1 <= n <= 10^5, 0 <= S <= 10^14). The second
line contains n integers c_1, ..., c_n (1 <= c_i <= 10^9).
"""
OUTPUT = """
Print the largest number of consecutive shops with total price at most S (0 if
no single snack is affordable).
"""
EXAMPLES = [("5 7\n2 1 3 5 1\n", "3\n"), ("2 1\n5 3\n", "0\n")]

CORRECT = [r'''
import sys
data = list(map(int, sys.stdin.read().split()))
n, s = data[0], data[1]
c = data[2:2 + n]
best = left = total = 0
for right in range(n):
    total += c[right]
    while total > s:
        total -= c[left]
        left += 1
    best = max(best, right - left + 1)
print(best)
''', r'''
import sys
from bisect import bisect_left
from itertools import accumulate
data = list(map(int, sys.stdin.read().split()))
n, s = data[0], data[1]
pre = [0] + list(accumulate(data[2:2 + n]))
best = 0
for r in range(1, n + 1):
    l = bisect_left(pre, pre[r] - s)
    best = max(best, r - l)
print(best)
''']
INCORRECT = [r'''
import sys
data = list(map(int, sys.stdin.read().split()))
n, s = data[0], data[1]
c = data[2:2 + n]
best = left = total = 0
for right in range(n):
    total += c[right]
    while total > s and left < right:
        total -= c[left]
        left += 1
    best = max(best, right - left + 1)
print(best)
''', r'''
import sys
data = list(map(int, sys.stdin.read().split()))
n, s = data[0], data[1]
c = data[2:2 + n]
best = run = total = 0
for x in c:
    if total + x <= s:
        total += x
        run += 1
    else:
        total, run = x, 1
    best = max(best, run)
print(best)
''']


def _case(s, values):
  return f"{len(values)} {s}\n{' '.join(map(str, values))}\n"


def private_inputs(rng):
  return [_case(0, [1, 2]), _case(10**14, [10**9] * 10), _case(5, [5]), _case(4, [5]),
          _case(6, [5, 1, 1, 1, 1, 1, 1, 5]), _case(10, [9, 9, 1, 1, 9]),
          _case(20, [rng.randint(1, 10) for _ in range(30)])]


def generated_inputs(rng):
  return [_case(10**5, [rng.randint(1, 1000) for _ in range(10**4)]),
          _case(rng.randint(0, 10**12), [rng.randint(1, 10**9) for _ in range(5000)]),
          _case(100, [rng.randint(1, 60) for _ in range(500)])]
