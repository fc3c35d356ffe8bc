"""rlef/041 Maze Runner: shortest path in a grid maze (BFS)."""

NAME = "Maze Runner"
DIFFICULTY = 2  # MEDIUM
CF_RATING = 1400
TAGS = ["graphs", "shortest paths"]
TIME_LIMIT_S = 2

STORY = """
A robot stands in a maze drawn as an n x m grid: '#' is a wall, '.' is floor,
'S' is the robot and 'E' is the exit. In one move the robot goes to a
side-adjacent floor cell (or the exit). How many moves does it need to reach
the exit?
"""
INPUT = """
The first line contains n and m (1 <= n, m <= 300). Each of the next n lines
contains m characters from '#', '.', 'S', 'E'; there is exactly one 'S' and
exactly one 'E'.
"""
OUTPUT = """
Print the smallest number of moves, or -1 if the exit cannot be reached.
"""
EXAMPLES = [("3 4\nS.#.\n.##E\n....\n", "6\n"), ("1 3\nS#E\n", "-1\n")]

CORRECT = [r'''
import sys
from collections import deque
data = sys.stdin.read().split()
n, m = int(data[0]), int(data[1])
grid = data[2:2 + n]
for i in range(n):
    for j in range(m):
        if grid[i][j] == "S":
            start = (i, j)
dist = [[-1] * m for _ in range(n)]
dist[start[0]][start[1]] = 0
queue = deque([start])
answer = -1
while queue:
    x, y = queue.popleft()
    if grid[x][y] == "E":
        answer = dist[x][y]
        break
    for a, b in ((x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)):
        if 0 <= a < n and 0 <= b < m and grid[a][b] != "#" and dist[a][b] < 0:
            dist[a][b] = dist[x][y] + 1
            queue.append((a, b))
print(answer)
''', r'''
import sys
data = sys.stdin.read().split()
n, m = int(data[0]), int(data[1])
grid = data[2:2 + n]
open_cells = {(i, j) for i in range(n) for j in range(m) if grid[i][j] != "#"}
start = next((i, j) for i, j in open_cells if grid[i][j] == "S")
seen = {start}
frontier = [start]
steps = 0
answer = -1
while frontier:
    if any(grid[i][j] == "E" for i, j in frontier):
        answer = steps
        break
    nxt = []
    for x, y in frontier:
        for c in ((x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)):
            if c in open_cells and c not in seen:
                seen.add(c)
                nxt.append(c)
    frontier = nxt
    steps += 1
print(answer)
''']
INCORRECT = [r'''
import sys
data = sys.stdin.read().split()
n, m = int(data[0]), int(data[1])
grid = data[2:2 + n]
for i in range(n):
    for j in range(m):
        if grid[i][j] == "S":
            start = (i, j)
seen = {start}
stack = [(start, 0)]
answer = -1
while stack:
    (x, y), d = stack.pop()
    if grid[x][y] == "E":
        answer = d
        break
    for a, b in ((x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)):
        if 0 <= a < n and 0 <= b < m and grid[a][b] != "#" and (a, b) not in seen:
            seen.add((a, b))
            stack.append(((a, b), d + 1))
print(answer)
''', r'''
import sys
data = sys.stdin.read().split()
n, m = int(data[0]), int(data[1])
grid = data[2:2 + n]
for i in range(n):
    for j in range(m):
        if grid[i][j] == "S":
            s = (i, j)
        if grid[i][j] == "E":
            e = (i, j)
print(abs(s[0] - e[0]) + abs(s[1] - e[1]))
''']


def _maze(rng, n, m, p):
  rows = [["#" if rng.random() < p else "." for _ in range(m)] for _ in range(n)]
  cells = rng.sample(range(n * m), 2)
  rows[cells[0] // m][cells[0] % m] = "S"
  rows[cells[1] // m][cells[1] % m] = "E"
  return f"{n} {m}\n" + "".join("".join(r) + "\n" for r in rows)


def _serpentine(n, m):
  rows = []
  for i in range(n):
    if i % 2 == 0:
      rows.append(["."] * m)
    else:
      rows.append(["#"] * (m - 1) + ["."] if i % 4 == 1 else ["."] + ["#"] * (m - 1))
  rows[0][0] = "S"
  rows[n - 1][m - 1 if (n - 1) % 4 == 0 else 0] = "E"
  return f"{n} {m}\n" + "".join("".join(r) + "\n" for r in rows)


def private_inputs(rng):
  return ["1 2\nSE\n", "2 2\nS#\n#E\n", "3 3\nS..\n.#.\n..E\n", "1 5\nE...S\n",
          _serpentine(101, 100), _maze(rng, 10, 10, 0.3)]


def generated_inputs(rng):
  return [_maze(rng, 150, 150, 0.3), _maze(rng, 100, 120, 0.4), _maze(rng, 30, 30, 0.25)]
