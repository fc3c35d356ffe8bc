"""rlef/040 Count the Islands: connected components on a grid."""

NAME = "Count the Islands"
DIFFICULTY = 2  # MEDIUM
CF_RATING = 1300
TAGS = ["dfs and similar", "graphs"]
TIME_LIMIT_S = 2

STORY = """
A satellite photo of an archipelago is an n x m grid: '#' is land and '.' is
water. Two land cells belong to the same island if they share a side (not just
a corner). Count the islands.
"""
INPUT = """
The first line contains n and m (1 <= n, m <= 300). Each of the next n lines
contains m characters '#' or '.'.
"""
OUTPUT = """
Print the number of islands.
"""
EXAMPLES = [("4 5\n##..#\n#...#\n..#..\n.....\n", "3\n"), ("2 2\n#.\n.#\n", "2\n")]

CORRECT = [r'''
import sys
data = sys.stdin.read().split()
n, m = int(data[0]), int(data[1])
grid = [list(r) for r in data[2:2 + n]]
count = 0
for i in range(n):
    for j in range(m):
        if grid[i][j] == "#":
            count += 1
            grid[i][j] = "."
            stack = [(i, j)]
            while stack:
                x, y = stack.pop()
                for a, b in ((x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)):
                    if 0 <= a < n and 0 <= b < m and grid[a][b] == "#":
                        grid[a][b] = "."
                        stack.append((a, b))
print(count)
''', r'''
import sys
data = sys.stdin.read().split()
n, m = int(data[0]), int(data[1])
grid = data[2:2 + n]
parent = list(range(n * m))
def find(x):
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x
land = 0
for i in range(n):
    for j in range(m):
        if grid[i][j] != "#":
            continue
        land += 1
        for a, b in ((i - 1, j), (i, j - 1)):
            if a >= 0 and b >= 0 and grid[a][b] == "#":
                x, y = find(i * m + j), find(a * m + b)
                if x != y:
                    parent[x] = y
                    land -= 1
print(land)
''']
INCORRECT = [r'''
import sys
data = sys.stdin.read().split()
n, m = int(data[0]), int(data[1])
grid = [list(r) for r in data[2:2 + n]]
def sink(x, y):
    if 0 <= x < n and 0 <= y < m and grid[x][y] == "#":
        grid[x][y] = "."
        sink(x + 1, y)
        sink(x - 1, y)
        sink(x, y + 1)
        sink(x, y - 1)
count = 0
for i in range(n):
    for j in range(m):
        if grid[i][j] == "#":
            count += 1
            sink(i, j)
print(count)
''', r'''
import sys
data = sys.stdin.read().split()
n, m = int(data[0]), int(data[1])
grid = [list(r) for r in data[2:2 + n]]
count = 0
for i in range(n):
    for j in range(m):
        if grid[i][j] == "#":
            count += 1
            grid[i][j] = "."
            stack = [(i, j)]
            while stack:
                x, y = stack.pop()
                for a in (x - 1, x, x + 1):
                    for b in (y - 1, y, y + 1):
                        if 0 <= a < n and 0 <= b < m and grid[a][b] == "#":
                            grid[a][b] = "."
                            stack.append((a, b))
print(count)
''']


def _grid(rows):
  return f"{len(rows)} {len(rows[0])}\n" + "".join(r + "\n" for r in rows)


def _random(rng, n, m, p):
  return _grid(["".join("#" if rng.random() < p else "." for _ in range(m)) for _ in range(n)])


def _snake(n, m):
  rows = []
  for i in range(n):
    if i % 2 == 0:
      rows.append("#" * m)
    else:
      rows.append(("." * (m - 1) + "#") if i % 4 == 1 else ("#" + "." * (m - 1)))
  return _grid(rows)


def private_inputs(rng):
  return [_grid(["."]), _grid(["#"]), _grid(["#.#.#"]), _grid(["###", "#.#", "###"]),
          _grid([".#.", "#.#", ".#."]), _snake(120, 120), _random(rng, 8, 8, 0.4)]


def generated_inputs(rng):
  return [_random(rng, 150, 150, 0.45), _random(rng, 100, 120, 0.3), _random(rng, 20, 20, 0.6)]
