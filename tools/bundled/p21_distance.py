"""rlef/021 As the Crow Flies: Euclidean distance with decimals."""

NAME = "As the Crow Flies"
DIFFICULTY = 1  # EASY
CF_RATING = 800
TAGS = ["geometry", "math"]
TIME_LIMIT_S = 2
REAL_OUTPUT = True

STORY = """
A crow flies in a straight line from one field to another. Given the grid
coordinates of both fields, how far does it fly?
"""
INPUT = """
The first line contains t (1 <= t <= 100). Each of the next t lines contains
four integers x1, y1, x2, y2 (-10^4 <= x1, y1, x2, y2 <= 10^4).
"""
OUTPUT = """
For each test case print the distance between (x1, y1) and (x2, y2). Answers
within 10^-5 of the exact value are accepted.
"""
EXAMPLES = [("2\n0 0 3 4\n1 1 1 1\n", "5.000000\n0.000000\n")]

CORRECT = [r'''
import math
t = int(input())
for _ in range(t):
    x1, y1, x2, y2 = map(int, input().split())
    print("%.6f" % math.hypot(x2 - x1, y2 - y1))
''', r'''
t = int(input())
for _ in range(t):
    x1, y1, x2, y2 = map(int, input().split())
    print(((x1 - x2) ** 2 + (y1 - y2) ** 2) ** 0.5)
''']
INCORRECT = [r'''
import math
t = int(input())
for _ in range(t):
    x1, y1, x2, y2 = map(int, input().split())
    print(int(math.hypot(x2 - x1, y2 - y1)))
''', r'''
t = int(input())
for _ in range(t):
    x1, y1, x2, y2 = map(int, input().split())
    print("%.6f" % (abs(x2 - x1) + abs(y2 - y1)))
''']


def _case(rows):
  return f"{len(rows)}\n" + "".join(" ".join(map(str, r)) + "\n" for r in rows)


def private_inputs(rng):
  return [_case([(0, 0, 1, 1)]), _case([(-10**4, -10**4, 10**4, 10**4)]), _case([(5, 5, 5, 9)]),
          _case([(1, 2, 4, 6), (0, 0, 0, 0)]),
          _case([[rng.randint(-10, 10) for _ in range(4)] for _ in range(30)])]


def generated_inputs(rng):
  return [_case([[rng.randint(-10**4, 10**4) for _ in range(4)] for _ in range(100)])
          for _ in range(2)]
