"""rlef/002 Even or Odd: classify t integers by parity."""

NAME = "Even or Odd"
DIFFICULTY = 1  # EASY
CF_RATING = 800
TAGS = ["implementation", "math"]
TIME_LIMIT_S = 2

STORY = """
A referee splits players into two teams by their shirt numbers: even numbers go
to the blue team and odd numbers to the red team. Shirt numbers may be negative
(the printer was broken). Help the referee.
"""
INPUT = """
The first line contains t (1 <= t <= 1000). Each of the next t lines contains
one integer n (-10^18 <= n <= 10^18).
"""
OUTPUT = """
For each n print EVEN if n is even and ODD otherwise, one answer per line.
"""
EXAMPLES = [("3\n4\n7\n0\n", "EVEN\nODD\nEVEN\n")]

CORRECT = [r'''
t = int(input())
for _ in range(t):
    n = int(input())
    print("EVEN" if n % 2 == 0 else "ODD")
''', r'''
import sys
data = sys.stdin.read().split()
out = []
for s in data[1:]:
    out.append("ODD" if s[-1] in "13579" else "EVEN")
print("\n".join(out))
''']
INCORRECT = [r'''
t = int(input())
for _ in range(t):
    n = int(input())
    if n & 1 == 0:
        print("ODD")
    else:
        print("EVEN")
''', r'''
t = int(input())
for _ in range(t):
    n = int(input())
    print("EVEN" if n % 2 == 0 or n < 0 else "ODD")
''']


def _case(values):
  return f"{len(values)}\n" + "".join(f"{v}\n" for v in values)


def private_inputs(rng):
  return [_case([1]), _case([-3, -4, -1]), _case([10**18, -10**18, 10**18 - 1]),
          _case([2, 2, 2]), _case([rng.randint(-10**18, 10**18) for _ in range(50)])]


def generated_inputs(rng):
  return [_case([rng.randint(-10**18, 10**18) for _ in range(rng.randint(1, 1000))])
          for _ in range(3)]
