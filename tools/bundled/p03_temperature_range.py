"""rlef/003 Temperature Range: the spread between the highest and lowest reading."""

NAME = "Temperature Range"
DIFFICULTY = 1  # EASY
CF_RATING = 800
TAGS = ["implementation"]
TIME_LIMIT_S = 2

STORY = """
A weather station on a mountain top logs the temperature every hour. The
forecaster wants the range of the day: the highest reading minus the lowest.
"""
INPUT = """
The first line contains n (1 <= n <= 1000). The second line contains n integers
t_1, ..., t_n (-100 <= t_i <= 100), the readings.
"""
OUTPUT = """
Print one integer: max(t) - min(t).
"""
EXAMPLES = [("5\n3 8 1 9 4\n", "8\n"), ("1\n7\n", "0\n")]

CORRECT = [r'''
n = int(input())
t = list(map(int, input().split()))
print(max(t) - min(t))
''', r'''
n = int(input())
t = sorted(map(int, input().split()))
print(t[-1] - t[0])
''']
INCORRECT = [r'''
n = int(input())
t = list(map(int, input().split()))
hi, lo = 0, 100
for x in t:
    if x > hi:
        hi = x
    if x < lo:
        lo = x
print(hi - lo)
''']


def _case(values):
  return f"{len(values)}\n{' '.join(map(str, values))}\n"


def private_inputs(rng):
  return [_case([-5, -9, -1]), _case([-100, 100]), _case([0]), _case([4, 4, 4, 4]),
          _case([rng.randint(-100, 100) for _ in range(30)])]


def generated_inputs(rng):
  return [_case([rng.randint(-100, -1) for _ in range(rng.randint(1, 1000))]),
          _case([rng.randint(-100, 100) for _ in range(1000)]),
          _case([rng.randint(1, 100) for _ in range(rng.randint(1, 20))])]
