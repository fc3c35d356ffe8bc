"""rlef/024 Best Streak: maximum sum of a non-empty contiguous segment."""

NAME = "Best Streak"
DIFFICULTY = 2  # MEDIUM
CF_RATING = 1100
TAGS = ["dp", "greedy"]
TIME_LIMIT_S = 2

STORY = """
A trader logs her profit (or loss) for each of n days. She wants to brag about
her best streak: a block of one or more consecutive days with the largest total
profit. The streak must contain at least one day, even if every day was a loss.
"""
INPUT = """
The first line contains n (1 <= n <= 10^5). The second line contains n integers
p_1, ..., p_n (-10^9 <= p_i <= 10^9).
"""
OUTPUT = """
Print the largest sum of a non-empty block of consecutive days.
"""
EXAMPLES = [("6\n2 -5 3 -1 4 -2\n", "6\n"), ("3\n-4 -2 -7\n", "-2\n")]

CORRECT = [r'''
input()
best = cur = None
for x in map(int, input().split()):
    cur = x if cur is None or cur < 0 else cur + x
    best = cur if best is None else max(best, cur)
print(best)
''', r'''
input()
a = list(map(int, input().split()))
prefix = 0
low = 0
best = a[0]
for x in a:
    prefix += x
    best = max(best, prefix - low)
    low = min(low, prefix)
print(best)
''']
INCORRECT = [r'''
input()
best = cur = 0
for x in map(int, input().split()):
    cur = max(0, cur + x)
    best = max(best, cur)
print(best)
''', r'''
input()
a = list(map(int, input().split()))
print(max(a[0], sum(x for x in a if x > 0)))
''']


def _case(values):
  return f"{len(values)}\n{' '.join(map(str, values))}\n"


def private_inputs(rng):
  return [_case([-5]), _case([7]), _case([-10**9] * 5), _case([10**9] * 5),
          _case([3, -10, 3]), _case([0, -1, 0]), _case([rng.randint(-10, 10) for _ in range(40)])]


def generated_inputs(rng):
  return [_case([rng.randint(-10**9, 10**9) for _ in range(5000)]),
          _case([rng.randint(-100, -1) for _ in range(500)]),
          _case([rng.randint(-50, 40) for _ in range(2000)])]
