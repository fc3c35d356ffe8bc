"""rlef/037 Buy Low, Sell High: best single transaction."""

NAME = "Buy Low, Sell High"
DIFFICULTY = 2  # MEDIUM
CF_RATING = 1000
TAGS = ["greedy"]
TIME_LIMIT_S = 2

STORY = """
You know the price of a gold coin on each of the next n days. You may buy one
coin on some day and sell it on the same or a later day, at most once. What is
the largest profit you can make? Doing nothing gives profit 0.
"""
INPUT = """
The first line contains n (1 <= n <= 10^5). The second line contains n integers
p_1, ..., p_n (1 <= p_i <= 10^9).
"""
OUTPUT = """
Print the largest profit.
"""
EXAMPLES = [("6\n7 1 5 3 6 4\n", "5\n"), ("3\n5 4 2\n", "0\n")]

CORRECT = [r'''
input()
low = None
best = 0
for p in map(int, input().split()):
    low = p if low is None else min(low, p)
    best = max(best, p - low)
print(best)
''', r'''
input()
p = list(map(int, input().split()))
best = 0
high = 0
for x in reversed(p):
    high = max(high, x)
    best = max(best, high - x)
print(best)
''']
INCORRECT = [r'''
input()
p = list(map(int, input().split()))
i = p.index(min(p))
print(max(p[i:]) - p[i])
''', r'''
input()
p = list(map(int, input().split()))
print(max(0, max(p) - min(p)) if p.index(max(p)) > 0 else 0)
''']


def _case(values):
  return f"{len(values)}\n{' '.join(map(str, values))}\n"


def private_inputs(rng):
  return [_case([5]), _case([3, 9, 1, 2]), _case([9, 1, 3, 10, 8]), _case([2, 8, 1]),
          _case([4, 4, 4]), _case([rng.randint(1, 50) for _ in range(30)])]


def generated_inputs(rng):
  return [_case([rng.randint(1, 10**9) for _ in range(5000)]),
          _case(sorted((rng.randint(1, 10**6) for _ in range(1000)), reverse=True)),
          _case([rng.randint(1, 100) for _ in range(200)])]
