"""rlef/049 Sharing Sweets: sum of floor(N / i) in O(sqrt N)."""

NAME = "Sharing Sweets"
DIFFICULTY = 3  # HARD
CF_RATING = 1800
TAGS = ["math", "number theory"]
TIME_LIMIT_S = 2

STORY = """
A candy factory packs N sweets. For every group size i from 1 to N it works out
how many complete groups of i sweets could be made, which is floor(N / i), and
writes the number down. What is the sum of all written numbers?
"""
INPUT = """
The first line contains t (1 <= t <= 3). Each of the next t lines contains N
(1 <= N <= 4*10^9).
"""
OUTPUT = """
For each N print floor(N/1) + floor(N/2) + ... + floor(N/N).
"""
EXAMPLES = [("2\n5\n1\n", "10\n1\n")]
NOTE = """
For N = 5 the numbers are 5, 2, 1, 1, 1.
"""

CORRECT = [r'''
from math import isqrt
t = int(input())
for _ in range(t):
    n = int(input())
    r = isqrt(n)
    print(2 * sum(n // i for i in range(1, r + 1)) - r * r)
''', r'''
t = int(input())
for _ in range(t):
    n = int(input())
    total = 0
    i = 1
    while i <= n:
        q = n // i
        j = n // q
        total += q * (j - i + 1)
        i = j + 1
    print(total)
''']
INCORRECT = [r'''
from math import isqrt
t = int(input())
for _ in range(t):
    n = int(input())
    r = isqrt(n)
    print(2 * sum(n // i for i in range(1, r + 1)) - r)
''', r'''
t = int(input())
for _ in range(t):
    n = int(input())
    r = int(n ** 0.5)
    print(2 * sum(n // i for i in range(1, r)) - r * r + n // r)
''']
SLOW = [r'''
t = int(input())
for _ in range(t):
    n = int(input())
    print(sum(n // i for i in range(1, n + 1)))
''']


def _case(values):
  return f"{len(values)}\n" + "".join(f"{v}\n" for v in values)


def private_inputs(rng):
  return [_case([1, 2, 3]), _case([4, 9, 15]), _case([4 * 10**9]), _case([3999999999]),
          _case([rng.randint(1, 10**4) for _ in range(3)])]


def generated_inputs(rng):
  return [_case([rng.randint(10**9, 4 * 10**9) for _ in range(3)]),
          _case([rng.randint(1, 10**6) for _ in range(3)]),
          _case([x * x - 1 for x in rng.sample(range(2, 10**5), 3)])]
