"""rlef/036 Backpack: 0/1 knapsack over capacities."""

NAME = "Backpack"
DIFFICULTY = 2  # MEDIUM
CF_RATING = 1500
TAGS = ["dp"]
TIME_LIMIT_S = 3

STORY = """
A hiker can carry at most W kilograms. There are n items; item i weighs w_i
kilograms and is worth v_i. Each item can be taken at most once. What is the
largest total worth the hiker can carry?
"""
INPUT = """
The first line contains n and W (1 <= n <= 100, 1 <= W <= 10^4). Each of the
next n lines contains w_i and v_i (1 <= w_i <= 10^4, 1 <= v_i <= 10^9).
"""
OUTPUT = """
Print the largest total worth of a set of items of total weight at most W.
"""
EXAMPLES = [("3 8\n3 30\n4 50\n5 60\n", "90\n"), ("1 2\n3 10\n", "0\n")]

CORRECT = [r'''
import sys
data = list(map(int, sys.stdin.read().split()))
n, cap = data[0], data[1]
best = [0] * (cap + 1)
for i in range(n):
    w, v = data[2 + 2 * i], data[3 + 2 * i]
    for c in range(cap, w - 1, -1):
        if best[c - w] + v > best[c]:
            best[c] = best[c - w] + v
print(best[cap])
''', r'''
import sys
data = list(map(int, sys.stdin.read().split()))
n, cap = data[0], data[1]
states = {0: 0}
for i in range(n):
    w, v = data[2 + 2 * i], data[3 + 2 * i]
    new = dict(states)
    for used, worth in states.items():
        if used + w <= cap and new.get(used + w, -1) < worth + v:
            new[used + w] = worth + v
    states = new
print(max(states.values()))
''']
INCORRECT = [r'''
import sys
data = list(map(int, sys.stdin.read().split()))
n, cap = data[0], data[1]
best = [0] * (cap + 1)
for i in range(n):
    w, v = data[2 + 2 * i], data[3 + 2 * i]
    for c in range(w, cap + 1):
        if best[c - w] + v > best[c]:
            best[c] = best[c - w] + v
print(best[cap])
''', r'''
import sys
data = list(map(int, sys.stdin.read().split()))
n, cap = data[0], data[1]
items = sorted(zip(data[2::2], data[3::2]), key=lambda p: -p[1] / p[0])
total = 0
for w, v in items:
    if w <= cap:
        cap -= w
        total += v
print(total)
''']


def _case(cap, items):
  return f"{len(items)} {cap}\n" + "".join(f"{w} {v}\n" for w, v in items)


def private_inputs(rng):
  return [_case(1, [(1, 5)]), _case(10, [(5, 10), (5, 10), (10, 21)]), _case(6, [(3, 10)]),
          _case(10, [(6, 60), (5, 45), (5, 45)]), _case(10**4, [(10**4, 10**9)] * 3),
          _case(50, [(rng.randint(1, 30), rng.randint(1, 100)) for _ in range(8)])]


def generated_inputs(rng):
  return [_case(4000, [(rng.randint(1, 2000), rng.randint(1, 10**9)) for _ in range(60)]),
          _case(1000, [(rng.randint(1, 300), rng.randint(1, 1000)) for _ in range(40)]),
          _case(100, [(rng.randint(10, 60), rng.randint(1, 100)) for _ in range(10)])]
