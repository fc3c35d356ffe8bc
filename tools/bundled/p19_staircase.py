"""rlef/019 Staircase: print a triangle of stars."""

NAME = "Staircase"
DIFFICULTY = 1  # EASY
CF_RATING = 800
TAGS = ["implementation"]
TIME_LIMIT_S = 2

STORY = """
Draw a staircase of n steps made of stars: the first line has one star, the
second two, and so on; the last line has n stars.
"""
INPUT = """
One line with an integer n (1 <= n <= 100).
"""
OUTPUT = """
Print n lines; the i-th line consists of i characters '*'.
"""
EXAMPLES = [("3\n", "*\n**\n***\n")]

CORRECT = [r'''
n = int(input())
for i in range(1, n + 1):
    print("*" * i)
''', r'''
n = int(input())
line = ""
for _ in range(n):
    line += "*"
    print(line)
''']
INCORRECT = [r'''
n = int(input())
for i in range(1, n):
    print("*" * i)
print("*" * n if n > 3 else "")
''', r'''
n = int(input())
for i in range(n, 0, -1):
    print("*" * i)
''']


def private_inputs(rng):
  return ["1\n", "2\n", "5\n", "100\n", f"{rng.randint(6, 99)}\n"]


def generated_inputs(rng):
  return [f"{rng.randint(1, 100)}\n" for _ in range(3)]
