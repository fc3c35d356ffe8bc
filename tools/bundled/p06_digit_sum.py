"""rlef/006 Digit Sum: the sum of the digits of a huge number."""

NAME = "Digit Sum"
DIFFICULTY = 1  # EASY
CF_RATING = 800
TAGS = ["implementation", "math"]
TIME_LIMIT_S = 2

STORY = """
A cashier checks long account numbers by adding up their digits. Given an
account number, print the sum of its digits.
"""
INPUT = """
One line with a positive integer N without leading zeros. N has at most 1000
digits.
"""
OUTPUT = """
Print the sum of the decimal digits of N.
"""
EXAMPLES = [("1234\n", "10\n"), ("5\n", "5\n")]

CORRECT = [r'''
print(sum(map(int, input().strip())))
''', r'''
n = int(input())
s = 0
while n:
    s += n % 10
    n //= 10
print(s)
''']
INCORRECT = [r'''
s = input().strip()
while len(s) > 1:
    s = str(sum(map(int, s)))
print(s)
''', r'''
s = input().strip()
print(sum(int(c) for c in s[1:]) + (int(s[0]) if len(s) > 1 else 0))
''']


def _number(rng, n):
  return str(rng.randint(1, 9)) + "".join(rng.choice("0123456789") for _ in range(n - 1)) + "\n"


def private_inputs(rng):
  return ["99\n", "1000000000\n", "9\n", "10\n", "9" * 1000 + "\n", _number(rng, 30)]


def generated_inputs(rng):
  return [_number(rng, rng.randint(1, 1000)) for _ in range(3)]
