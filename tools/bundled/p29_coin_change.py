"""rlef/029 Odd Coins: fewest coins with arbitrary denominations (DP, not greedy)."""

NAME = "Odd Coins"
DIFFICULTY = 2  # MEDIUM
CF_RATING = 1400
TAGS = ["dp"]
TIME_LIMIT_S = 2

STORY = """
The island of Numeria mints coins of unusual values. A merchant has unlimited
coins of each of the n values and must pay exactly x. What is the smallest
number of coins that does it?
"""
INPUT = """
The first line contains n and x (1 <= n <= 10, 1 <= x <= 10^4). The second line
contains n distinct integers c_1, ..., c_n (1 <= c_i <= 10^4).
"""
OUTPUT = """
Print the minimum number of coins with total value x, or -1 if x cannot be paid
exactly.
"""
EXAMPLES = [("3 6\n1 3 4\n", "2\n"), ("1 3\n2\n", "-1\n")]
NOTE = """
In the first example 3 + 3 = 6 uses two coins; taking the largest coin first
(4 + 1 + 1) needs three.
"""

CORRECT = [r'''
n, x = map(int, input().split())
coins = list(map(int, input().split()))
INF = float("inf")
best = [0] + [INF] * x
for v in range(1, x + 1):
    for c in coins:
        if c <= v and best[v - c] + 1 < best[v]:
            best[v] = best[v - c] + 1
print(best[x] if best[x] < INF else -1)
''', r'''
from collections import deque
n, x = map(int, input().split())
coins = list(map(int, input().split()))
dist = [-1] * (x + 1)
dist[0] = 0
queue = deque([0])
while queue:
    v = queue.popleft()
    for c in coins:
        w = v + c
        if w <= x and dist[w] < 0:
            dist[w] = dist[v] + 1
            queue.append(w)
print(dist[x])
''']
INCORRECT = [r'''
n, x = map(int, input().split())
coins = sorted(map(int, input().split()), reverse=True)
count = 0
for c in coins:
    count += x // c
    x %= c
print(count if x == 0 else -1)
''', r'''
n, x = map(int, input().split())
coins = list(map(int, input().split()))
best = [0] + [10**9] * x
for v in range(1, x + 1):
    for c in coins:
        if c <= v:
            best[v] = min(best[v], best[v - c] + 1)
print(best[x])
''']


def _case(x, coins):
  return f"{len(coins)} {x}\n{' '.join(map(str, coins))}\n"


def private_inputs(rng):
  return [_case(1, [1]), _case(7, [2, 4]), _case(10**4, [1]), _case(12, [1, 6, 9]),
          _case(9999, [10**4, 3]), _case(30, [25, 10, 1]),
          _case(rng.randint(50, 200), rng.sample(range(2, 30), 4))]


def generated_inputs(rng):
  return [_case(10**4, rng.sample(range(1, 500), 10)),
          _case(rng.randint(5000, 10**4), rng.sample(range(7, 200), 5)),
          _case(rng.randint(100, 500), rng.sample(range(20, 90), 3))]
