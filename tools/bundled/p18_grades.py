"""rlef/018 Report Card: scores to letter grades."""

NAME = "Report Card"
DIFFICULTY = 1  # EASY
CF_RATING = 800
TAGS = ["implementation"]
TIME_LIMIT_S = 2

STORY = """
A school converts exam scores into letters: 90 or more is A, 80 to 89 is B, 70
to 79 is C, 60 to 69 is D and anything below 60 is F. Convert a list of scores.
"""
INPUT = """
The first line contains n (1 <= n <= 1000). The second line contains n integers
s_1, ..., s_n (0 <= s_i <= 100).
"""
OUTPUT = """
Print n letters separated by spaces, the grades in input order.
"""
EXAMPLES = [("4\n95 72 40 81\n", "A C F B\n")]

CORRECT = [r'''
input()
out = []
for s in map(int, input().split()):
    if s >= 90:
        out.append("A")
    elif s >= 80:
        out.append("B")
    elif s >= 70:
        out.append("C")
    elif s >= 60:
        out.append("D")
    else:
        out.append("F")
print(*out)
''', r'''
import bisect
input()
print(*("FDCBA"[bisect.bisect_right([60, 70, 80, 90], s)] for s in map(int, input().split())))
''']
INCORRECT = [r'''
input()
out = []
for s in map(int, input().split()):
    if s > 90:
        out.append("A")
    elif s > 80:
        out.append("B")
    elif s > 70:
        out.append("C")
    elif s > 60:
        out.append("D")
    else:
        out.append("F")
print(*out)
''', r'''
input()
print(*("FFFFFFDCBA"[s // 10] for s in map(int, input().split())))
''']


def _case(values):
  return f"{len(values)}\n{' '.join(map(str, values))}\n"


def private_inputs(rng):
  return [_case([90, 80, 70, 60]), _case([100]), _case([0, 59, 89]), _case([61, 71, 81, 91]),
          _case([rng.randint(0, 100) for _ in range(50)])]


def generated_inputs(rng):
  return [_case([rng.randint(0, 100) for _ in range(rng.randint(1, 1000))]) for _ in range(3)]
