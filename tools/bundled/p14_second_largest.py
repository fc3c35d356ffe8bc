"""rlef/014 Silver Medal: the second largest distinct value."""

NAME = "Silver Medal"
DIFFICULTY = 1  # EASY
CF_RATING = 900
TAGS = ["implementation", "sortings"]
TIME_LIMIT_S = 2

STORY = """
In a long-jump contest the gold medal goes to everyone with the best result and
the silver medal to everyone with the second best distinct result. Find the
result that earns silver, or report that nobody gets silver.
"""
INPUT = """
The first line contains n (1 <= n <= 1000). The second line contains n integers
r_1, ..., r_n (1 <= r_i <= 10^9), the results.
"""
OUTPUT = """
Print the second largest distinct value among the results, or -1 if all
results are equal.
"""
EXAMPLES = [("5\n7 3 9 9 5\n", "7\n"), ("3\n4 4 4\n", "-1\n")]

CORRECT = [r'''
n = int(input())
v = sorted(set(map(int, input().split())))
print(v[-2] if len(v) > 1 else -1)
''', r'''
n = int(input())
a = list(map(int, input().split()))
best = max(a)
rest = [x for x in a if x != best]
print(max(rest) if rest else -1)
''']
INCORRECT = [r'''
n = int(input())
a = sorted(map(int, input().split()))
print(a[-2] if n > 1 else -1)
''', r'''
n = int(input())
a = list(map(int, input().split()))
first = second = -1
for x in a:
    if x > first:
        second = first
        first = x
print(second)
''']


def _case(values):
  return f"{len(values)}\n{' '.join(map(str, values))}\n"


def private_inputs(rng):
  return [_case([5]), _case([9, 9, 3]), _case([1, 2]), _case([2, 1]), _case([3, 8, 5, 1]),
          _case([rng.randint(1, 5) for _ in range(30)])]


def generated_inputs(rng):
  return [_case([rng.randint(1, 10**9) for _ in range(1000)]),
          _case([rng.randint(1, 3) for _ in range(rng.randint(1, 1000))]),
          _case(sorted(rng.randint(1, 100) for _ in range(50)))]
