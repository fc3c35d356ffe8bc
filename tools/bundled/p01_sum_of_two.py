"""rlef/001 Sum of Two: read two integers, print their sum."""

NAME = "Sum of Two"
DIFFICULTY = 1  # EASY
CF_RATING = 800
TAGS = ["implementation", "math"]
TIME_LIMIT_S = 2

STORY = """
Mira keeps two jars of marbles on her desk. She counted the marbles in each jar
and now wants to know how many marbles she has in total.
"""
INPUT = """
The only line contains two integers a and b (-10^9 <= a, b <= 10^9), the
numbers of marbles in the jars (a negative number means she owes marbles).
"""
OUTPUT = """
Print one integer: a + b.
"""
EXAMPLES = [("2 2\n", "4\n"), ("-5 12\n", "7\n")]

CORRECT = [r'''
a, b = map(int, input().split())
print(a + b)
''', r'''
import sys
print(sum(int(x) for x in sys.stdin.read().split()))
''']
INCORRECT = [r'''
a, b = map(int, input().split())
print(a * b if a == b else a + b)
''', r'''
a, b = input().split()
print(abs(int(a)) + abs(int(b)))
''']


def private_inputs(rng):
  cases = [(0, 0), (10**9, 10**9), (-10**9, -10**9), (1, -1), (-7, -8)]
  cases += [(rng.randint(-10**9, 10**9), rng.randint(-10**9, 10**9)) for _ in range(3)]
  return [f"{a} {b}\n" for a, b in cases]


def generated_inputs(rng):
  return [f"{rng.randint(-10**9, 10**9)} {rng.randint(-10**9, 10**9)}\n" for _ in range(4)]
