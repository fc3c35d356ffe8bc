"""rlef/023 Matching Weights: count pairs with a given sum using a hash map."""

NAME = "Matching Weights"
DIFFICULTY = 2  # MEDIUM
CF_RATING = 1200
TAGS = ["data structures", "math"]
TIME_LIMIT_S = 2

STORY = """
A balance needs two weights whose masses add up to exactly k grams. You have n
weights. Count the pairs of different weights (by position, not by mass) that
together weigh exactly k.
"""
INPUT = """
The first line contains n and k (1 <= n <= 10^5, 1 <= k <= 2*10^9). The second
line contains n integers a_1, ..., a_n (1 <= a_i <= 10^9).
"""
OUTPUT = """
Print the number of pairs of indices i < j with a_i + a_j = k.
"""
EXAMPLES = [("5 6\n1 5 3 3 2\n", "2\n"), ("4 4\n2 2 2 2\n", "6\n")]

CORRECT = [r'''
import sys
from collections import Counter
data = sys.stdin.read().split()
n, k = int(data[0]), int(data[1])
seen = Counter()
ans = 0
for x in map(int, data[2:2 + n]):
    ans += seen[k - x]
    seen[x] += 1
print(ans)
''', r'''
import sys
from collections import Counter
data = sys.stdin.read().split()
n, k = int(data[0]), int(data[1])
c = Counter(map(int, data[2:2 + n]))
ans = 0
for x, m in c.items():
    y = k - x
    if x < y:
        ans += m * c.get(y, 0)
    elif x == y:
        ans += m * (m - 1) // 2
print(ans)
''']
INCORRECT = [r'''
import sys
from collections import Counter
data = sys.stdin.read().split()
n, k = int(data[0]), int(data[1])
c = Counter(map(int, data[2:2 + n]))
ans = 0
for x, m in c.items():
    if k - x in c:
        ans += m * c[k - x]
print(ans // 2)
''', r'''
import sys
data = sys.stdin.read().split()
n, k = int(data[0]), int(data[1])
a = set(map(int, data[2:2 + n]))
print(sum(1 for x in a if k - x in a and x < k - x))
''']


def _case(k, values):
  return f"{len(values)} {k}\n{' '.join(map(str, values))}\n"


def private_inputs(rng):
  return [_case(2, [1]), _case(2, [1, 1]), _case(10, [5, 5, 5]), _case(7, [1, 2, 3]),
          _case(2 * 10**9, [10**9] * 4 + [1]),
          _case(10, [rng.randint(1, 9) for _ in range(50)])]


def generated_inputs(rng):
  return [_case(1000, [rng.randint(1, 999) for _ in range(10**4)]),
          _case(rng.randint(2, 2 * 10**9), [rng.randint(1, 10**9) for _ in range(2000)]),
          _case(20, [rng.choice([10, 10, 5, 15]) for _ in range(300)])]
