"""rlef/031 Garden Paths: monotone grid paths around rocks, modulo 10^9+7."""

NAME = "Garden Paths"
DIFFICULTY = 2  # MEDIUM
CF_RATING = 1300
TAGS = ["dp", "combinatorics"]
TIME_LIMIT_S = 2

STORY = """
A garden is an n x m grid of cells; some cells hold rocks ('#'), the others are
grass ('.'). A gardener starts in the top-left cell and walks to the
bottom-right cell, each step moving one cell right or one cell down, never
onto a rock. Count the different walks modulo 10^9 + 7.
"""
INPUT = """
The first line contains n and m (1 <= n, m <= 300). Each of the next n lines
contains m characters '.' or '#'.
"""
OUTPUT = """
Print the number of walks modulo 1000000007 (0 if the start or the end holds a
rock).
"""
EXAMPLES = [("3 3\n...\n.#.\n...\n", "2\n"), ("2 2\n.#\n#.\n", "0\n")]

CORRECT = [r'''
import sys
MOD = 10**9 + 7
data = sys.stdin.read().split()
n, m = int(data[0]), int(data[1])
grid = data[2:2 + n]
row = [0] * m
for i in range(n):
    for j in range(m):
        if grid[i][j] == "#":
            row[j] = 0
        elif i == 0 and j == 0:
            row[j] = 1
        elif j > 0:
            row[j] = (row[j] + row[j - 1]) % MOD
print(row[m - 1])
''', r'''
import sys
MOD = 10**9 + 7
data = sys.stdin.read().split()
n, m = int(data[0]), int(data[1])
grid = data[2:2 + n]
ways = [[0] * (m + 1) for _ in range(n + 1)]
for i in range(n):
    for j in range(m):
        if grid[i][j] == ".":
            ways[i + 1][j + 1] = 1 if i == j == 0 else (ways[i][j + 1] + ways[i + 1][j]) % MOD
print(ways[n][m])
''']
INCORRECT = [r'''
import sys
MOD = 10**9 + 7
data = sys.stdin.read().split()
n, m = int(data[0]), int(data[1])
grid = data[2:2 + n]
ways = [[0] * m for _ in range(n)]
for i in range(n):
    ways[i][0] = 1
for j in range(m):
    ways[0][j] = 1
for i in range(1, n):
    for j in range(1, m):
        if grid[i][j] == ".":
            ways[i][j] = (ways[i - 1][j] + ways[i][j - 1]) % MOD
print(ways[n - 1][m - 1] if grid[0][0] == "." and grid[-1][-1] == "." else 0)
''', r'''
import sys
data = sys.stdin.read().split()
n, m = int(data[0]), int(data[1])
grid = data[2:2 + n]
ways = [[0] * (m + 1) for _ in range(n + 1)]
for i in range(n):
    for j in range(m):
        if grid[i][j] == ".":
            ways[i + 1][j + 1] = 1 if i == j == 0 else ways[i][j + 1] + ways[i + 1][j]
print(ways[n][m])
''']


def _grid(rng, n, m, p):
  rows = [["#" if rng.random() < p else "." for _ in range(m)] for _ in range(n)]
  rows[0][0] = rows[-1][-1] = "."
  return f"{n} {m}\n" + "".join("".join(r) + "\n" for r in rows)


def private_inputs(rng):
  return ["1 1\n.\n", "1 1\n#\n", "1 5\n.....\n", "3 1\n.\n#\n.\n", "2 3\n.#.\n...\n",
          "3 3\n...\n...\n..#\n", _grid(rng, 6, 7, 0.2)]


def generated_inputs(rng):
  return [_grid(rng, 300, 300, 0.05), _grid(rng, 50, 80, 0.2), _grid(rng, 100, 100, 0)]
