"""rlef/033 Favourite Number: the most frequent value, smallest on ties."""

NAME = "Favourite Number"
DIFFICULTY = 2  # MEDIUM
CF_RATING = 1000
TAGS = ["implementation", "sortings"]
TIME_LIMIT_S = 2

STORY = """
A class voted for its favourite number; each pupil wrote one integer. The
winner is the number written most often. If several numbers tie, the smallest
of them wins.
"""
INPUT = """
The first line contains n (1 <= n <= 10^5). The second line contains n integers
v_1, ..., v_n (-10^9 <= v_i <= 10^9).
"""
OUTPUT = """
Print the winning number and how many pupils wrote it, separated by a space.
"""
EXAMPLES = [("6\n4 7 4 7 1 9\n", "4 2\n"), ("1\n-3\n", "-3 1\n")]

CORRECT = [r'''
from collections import Counter
input()
c = Counter(map(int, input().split()))
best = min(c, key=lambda v: (-c[v], v))
print(best, c[best])
''', r'''
input()
a = sorted(map(int, input().split()))
best, best_count = a[0], 0
i = 0
while i < len(a):
    j = i
    while j < len(a) and a[j] == a[i]:
        j += 1
    if j - i > best_count:
        best, best_count = a[i], j - i
    i = j
print(best, best_count)
''']
INCORRECT = [r'''
from collections import Counter
input()
value, count = Counter(map(int, input().split())).most_common(1)[0]
print(value, count)
''', r'''
from collections import Counter
input()
c = Counter(map(int, input().split()))
best = max(c, key=lambda v: (c[v], v))
print(best, c[best])
''']


def _case(values):
  return f"{len(values)}\n{' '.join(map(str, values))}\n"


def private_inputs(rng):
  return [_case([5, 3]), _case([3, 5, 5, 3]), _case([-1, -2, -2, -1]), _case([10**9] * 3),
          _case([2, 2, 1, 1, 3, 3, 3]), _case([rng.randint(-5, 5) for _ in range(40)])]


def generated_inputs(rng):
  return [_case([rng.randint(-10**9, 10**9) for _ in range(5000)]),
          _case([rng.randint(-100, 100) for _ in range(20000)]),
          _case([rng.randint(1, 4) for _ in range(12)])]
