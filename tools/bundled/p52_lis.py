"""rlef/052 Rising Skyline: longest strictly increasing subsequence in O(n log n)."""

NAME = "Rising Skyline"
DIFFICULTY = 3  # HARD
CF_RATING = 1700
TAGS = ["binary search", "dp"]
TIME_LIMIT_S = 2

STORY = """
A photographer walks along a street of n buildings with heights h_1, ..., h_n
and wants a panorama of some of them (keeping their order) in which every
building is strictly taller than the previous one. How many buildings can the
panorama show at most?
"""
INPUT = """
The first line contains n (1 <= n <= 2*10^5). The second line contains n
integers h_1, ..., h_n (1 <= h_i <= 10^9).
"""
OUTPUT = """
Print the length of the longest strictly increasing subsequence.
"""
EXAMPLES = [("6\n3 1 4 1 5 9\n", "4\n"), ("3\n2 2 2\n", "1\n")]

CORRECT = [r'''
from bisect import bisect_left
input()
tails = []
for x in map(int, input().split()):
    i = bisect_left(tails, x)
    if i == len(tails):
        tails.append(x)
    else:
        tails[i] = x
print(len(tails))
''', r'''
input()
h = list(map(int, input().split()))
rank = {v: i + 1 for i, v in enumerate(sorted(set(h)))}
size = len(rank)
tree = [0] * (size + 1)
best = 0
for x in h:
    r = rank[x] - 1
    cur = 0
    while r > 0:
        cur = max(cur, tree[r])
        r -= r & -r
    cur += 1
    best = max(best, cur)
    r = rank[x]
    while r <= size:
        tree[r] = max(tree[r], cur)
        r += r & -r
print(best)
''']
INCORRECT = [r'''
from bisect import bisect_right
input()
tails = []
for x in map(int, input().split()):
    i = bisect_right(tails, x)
    if i == len(tails):
        tails.append(x)
    else:
        tails[i] = x
print(len(tails))
''', r'''
input()
h = list(map(int, input().split()))
best = cur = 1
for i in range(1, len(h)):
    cur = cur + 1 if h[i] > h[i - 1] else 1
    best = max(best, cur)
print(best)
''']
SLOW = [r'''
input()
h = list(map(int, input().split()))
n = len(h)
best = [1] * n
for i in range(n):
    for j in range(i):
        if h[j] < h[i] and best[j] + 1 > best[i]:
            best[i] = best[j] + 1
print(max(best))
''']


def _case(values):
  return f"{len(values)}\n{' '.join(map(str, values))}\n"


def private_inputs(rng):
  return [_case([5]), _case([1, 2, 2, 3]), _case([5, 4, 3, 2, 1]), _case([1, 3, 2, 4, 3, 5]),
          _case(list(range(1, 101))), _case([rng.randint(1, 10) for _ in range(30)])]


def generated_inputs(rng):
  return [_case([rng.randint(1, 10**5) for _ in range(15000)]),
          _case([i + rng.randint(0, 50) for i in range(2000)]),
          _case([rng.randint(1, 20) for _ in range(200)])]
