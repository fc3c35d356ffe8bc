"""rlef/013 Fair Share: the floor of the mean of n integers."""

NAME = "Fair Share"
DIFFICULTY = 1  # EASY
CF_RATING = 900
TAGS = ["math"]
TIME_LIMIT_S = 2

STORY = """
Friends pool their gains and losses from a trip and split them evenly. The
share of each friend is the average of all amounts, rounded down (towards minus
infinity: -2.5 becomes -3).
"""
INPUT = """
The first line contains n (1 <= n <= 1000). The second line contains n integers
a_1, ..., a_n (-10^15 <= a_i <= 10^15).
"""
OUTPUT = """
Print the largest integer not greater than (a_1 + ... + a_n) / n.
"""
EXAMPLES = [("3\n1 2 4\n", "2\n"), ("2\n5 -10\n", "-3\n")]

CORRECT = [r'''
n = int(input())
a = list(map(int, input().split()))
print(sum(a) // n)
''', r'''
import math
from fractions import Fraction
n = int(input())
a = list(map(int, input().split()))
print(math.floor(Fraction(sum(a), n)))
''']
INCORRECT = [r'''
n = int(input())
a = list(map(int, input().split()))
print(int(sum(a) / n))
''', r'''
import math
n = int(input())
a = list(map(int, input().split()))
print(math.floor(sum(a) / n))
''']


def _case(values):
  return f"{len(values)}\n{' '.join(map(str, values))}\n"


def private_inputs(rng):
  big = 10**15
  return [_case([-1, -2]), _case([7]), _case([-7]), _case([big, big, big - 1]),
          _case([big] * 999 + [big - 7]), _case([-big] * 999 + [7 - big]), _case([-3, 0, 0]),
          _case([rng.randint(-100, 100) for _ in range(20)])]


def generated_inputs(rng):
  return [_case([rng.randint(-10**15, 10**15) for _ in range(rng.randint(1, 1000))])
          for _ in range(2)] + [_case([rng.randint(10**14, 10**15) for _ in range(7)])]
