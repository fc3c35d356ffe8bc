"""rlef/015 Running Total: print all prefix sums."""

NAME = "Running Total"
DIFFICULTY = 1  # EASY
CF_RATING = 800
TAGS = ["implementation"]
TIME_LIMIT_S = 2

STORY = """
A shop records each sale and each refund as an integer. The owner wants to see
the balance after every record, starting from zero.
"""
INPUT = """
The first line contains n (1 <= n <= 10^4). The second line contains n integers
a_1, ..., a_n (-10^9 <= a_i <= 10^9).
"""
OUTPUT = """
Print n integers separated by spaces: the i-th is a_1 + ... + a_i.
"""
EXAMPLES = [("4\n3 -1 4 1\n", "3 2 6 7\n")]

CORRECT = [r'''
from itertools import accumulate
input()
print(*accumulate(map(int, input().split())))
''', r'''
n = int(input())
a = list(map(int, input().split()))
s = 0
out = []
for x in a:
    s += x
    out.append(s)
print(" ".join(map(str, out)))
''']
INCORRECT = [r'''
n = int(input())
a = list(map(int, input().split()))
out = [a[0]]
for i in range(1, n - 1):
    out.append(out[-1] + a[i])
out.append(out[-1] + a[-1])
print(*out)
''', r'''
n = int(input())
a = list(map(int, input().split()))
s = 0
out = []
for x in a:
    out.append(s)
    s += x
print(*out)
''']


def _case(values):
  return f"{len(values)}\n{' '.join(map(str, values))}\n"


def private_inputs(rng):
  return [_case([5]), _case([-10**9] * 5), _case([0, 0, 0]), _case([1, -1, 1, -1, 1]),
          _case([rng.randint(-10, 10) for _ in range(40)])]


def generated_inputs(rng):
  return [_case([rng.randint(-10**9, 10**9) for _ in range(rng.randint(1, 2000))]),
          _case([rng.randint(-10**9, 10**9) for _ in range(2000)])]
