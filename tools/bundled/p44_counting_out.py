"""rlef/044 Counting Out: the Josephus survivor."""

NAME = "Counting Out"
DIFFICULTY = 2  # MEDIUM
CF_RATING = 1500
TAGS = ["math", "dp"]
TIME_LIMIT_S = 3

STORY = """
n children numbered 1 to n stand in a circle playing a counting-out rhyme.
Starting from child 1, they count k children clockwise (child 1 says "one");
the child who says "k" leaves the circle, and counting restarts from the next
child. The last child left wins. Who wins?
"""
INPUT = """
One line with n and k (1 <= n <= 3*10^5, 1 <= k <= 10^9).
"""
OUTPUT = """
Print the number of the winning child.
"""
EXAMPLES = [("5 2\n", "3\n"), ("7 3\n", "4\n")]
NOTE = """
In the first example children leave in the order 2, 4, 1, 5.
"""

CORRECT = [r'''
n, k = map(int, input().split())
w = 0
for m in range(2, n + 1):
    w = (w + k) % m
print(w + 1)
''', r'''
n, k = map(int, input().split())
if n <= 2000:
    circle = list(range(1, n + 1))
    i = 0
    while len(circle) > 1:
        i = (i + k - 1) % len(circle)
        circle.pop(i)
    print(circle[0])
else:
    w = 0
    m = 1
    while m < n:
        m += 1
        w = (w + k) % m
    print(w + 1)
''']
INCORRECT = [r'''
n, k = map(int, input().split())
w = 0
for m in range(2, n + 1):
    w = (w + k) % m
print(w)
''', r'''
n, k = map(int, input().split())
w = 0
for m in range(2, n):
    w = (w + k) % m
print(w + 1)
''']


def private_inputs(rng):
  return ["1 1\n", "1 1000000000\n", "10 1\n", "6 6\n", "300000 2\n", "2000 7\n",
          f"{rng.randint(10, 100)} {rng.randint(1, 100)}\n"]


def generated_inputs(rng):
  return [f"{rng.randint(10**5, 3 * 10**5)} {rng.randint(1, 10**9)}\n",
          f"{rng.randint(500, 2000)} {rng.randint(2, 50)}\n", f"{rng.randint(2, 30)} 3\n"]
