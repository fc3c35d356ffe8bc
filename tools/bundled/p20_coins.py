"""rlef/020 Exact Change: fewest coins of 1, 2 and 5."""

NAME = "Exact Change"
DIFFICULTY = 1  # EASY
CF_RATING = 800
TAGS = ["greedy", "math"]
TIME_LIMIT_S = 2

STORY = """
A vending machine pays change with coins of value 1, 2 and 5 and always uses as
few coins as possible. How many coins does it pay for change n?
"""
INPUT = """
The first line contains t (1 <= t <= 1000). Each of the next t lines contains
n (0 <= n <= 10^18).
"""
OUTPUT = """
For each n print the minimum number of coins with total value n.
"""
EXAMPLES = [("3\n12\n5\n0\n", "3\n1\n0\n")]

CORRECT = [r'''
t = int(input())
for _ in range(t):
    n = int(input())
    print(n // 5 + n % 5 // 2 + n % 5 % 2)
''', r'''
t = int(input())
for _ in range(t):
    n = int(input())
    print(n // 5 + [0, 1, 1, 2, 2][n % 5])
''']
INCORRECT = [r'''
t = int(input())
for _ in range(t):
    n = int(input())
    print(n // 5 + n % 5)
''', r'''
t = int(input())
for _ in range(t):
    n = int(input())
    print(n // 5 + n % 5 // 2)
''']


def _case(values):
  return f"{len(values)}\n" + "".join(f"{v}\n" for v in values)


def private_inputs(rng):
  return [_case(list(range(11))), _case([10**18]), _case([4, 9, 14]), _case([3]),
          _case([rng.randint(0, 10**6) for _ in range(50)])]


def generated_inputs(rng):
  return [_case([rng.randint(0, 10**18) for _ in range(1000)]),
          _case([rng.randint(0, 100) for _ in range(rng.randint(1, 1000))])]
