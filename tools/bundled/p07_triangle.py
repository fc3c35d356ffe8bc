"""rlef/007 Three Sticks: can three lengths form a non-degenerate triangle?"""

NAME = "Three Sticks"
DIFFICULTY = 1  # EASY
CF_RATING = 800
TAGS = ["geometry", "math"]
TIME_LIMIT_S = 2

STORY = """
Timo found three sticks in the garden and wants to lay them out as a triangle
with positive area. Tell him whether that is possible. Sticks cannot be broken
or bent.
"""
INPUT = """
The first line contains t (1 <= t <= 100). Each of the next t lines contains
three integers a, b, c (1 <= a, b, c <= 10^9).
"""
OUTPUT = """
For each test case print YES if the sticks form a triangle with positive area,
and NO otherwise.
"""
EXAMPLES = [("3\n3 4 5\n1 1 5\n2 2 3\n", "YES\nNO\nYES\n")]
NOTE = """
Sticks 1, 2 and 3 would only make a flat triangle, so the answer for them is NO.
"""

CORRECT = [r'''
t = int(input())
for _ in range(t):
    a, b, c = sorted(map(int, input().split()))
    print("YES" if a + b > c else "NO")
''', r'''
t = int(input())
for _ in range(t):
    a, b, c = map(int, input().split())
    ok = a + b > c and a + c > b and b + c > a
    print("YES" if ok else "NO")
''']
INCORRECT = [r'''
t = int(input())
for _ in range(t):
    a, b, c = sorted(map(int, input().split()))
    print("YES" if a + b >= c else "NO")
''', r'''
t = int(input())
for _ in range(t):
    a, b, c = map(int, input().split())
    print("YES" if a + b > c else "NO")
''']


def _case(triples):
  return f"{len(triples)}\n" + "".join(f"{a} {b} {c}\n" for a, b, c in triples)


def private_inputs(rng):
  return [_case([(1, 2, 3), (3, 2, 1), (5, 1, 1)]), _case([(1, 1, 1)]),
          _case([(10**9, 10**9, 10**9), (10**9, 1, 10**9 - 1)]),
          _case([(7, 3, 5), (2, 9, 6), (9, 2, 6)]),
          _case([(rng.randint(1, 20), rng.randint(1, 20), rng.randint(1, 20)) for _ in range(100)])]


def generated_inputs(rng):
  out = []
  for hi in (10, 1000, 10**9):
    out.append(_case([(rng.randint(1, hi), rng.randint(1, hi), rng.randint(1, hi))
                      for _ in range(100)]))
  return out
