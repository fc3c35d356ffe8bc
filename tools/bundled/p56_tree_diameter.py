"""rlef/056 Longest Hike: the diameter of a weighted tree with two BFS passes."""

NAME = "Longest Hike"
DIFFICULTY = 3  # HARD
CF_RATING = 1700
TAGS = ["dfs and similar", "trees", "graphs"]
TIME_LIMIT_S = 2

STORY = """
A national park has n huts connected by n - 1 trails so that every hut can be
reached from every other in exactly one way. Trail i joins huts u_i and v_i and
is w_i kilometres long. What is the longest hike between two huts that never
uses a trail twice?
"""
INPUT = """
The first line contains n (1 <= n <= 2*10^5). Each of the next n - 1 lines
contains u_i, v_i, w_i (1 <= u_i, v_i <= n, 1 <= w_i <= 10^4).
"""
OUTPUT = """
Print the largest distance between two huts.
"""
EXAMPLES = [("5\n1 2 3\n2 3 4\n2 4 2\n4 5 6\n", "12\n"), ("1\n", "0\n")]

CORRECT = [r'''
import sys
data = list(map(int, sys.stdin.read().split()))
n = data[0]
adj = [[] for _ in range(n + 1)]
for i in range(n - 1):
    u, v, w = data[1 + 3 * i:4 + 3 * i]
    adj[u].append((v, w))
    adj[v].append((u, w))
def farthest(src):
    dist = [-1] * (n + 1)
    dist[src] = 0
    stack = [src]
    while stack:
        u = stack.pop()
        for v, w in adj[u]:
            if dist[v] < 0:
                dist[v] = dist[u] + w
                stack.append(v)
    far = max(range(1, n + 1), key=dist.__getitem__)
    return far, dist[far]
a, _ = farthest(1)
print(farthest(a)[1])
''', r'''
import sys
data = list(map(int, sys.stdin.read().split()))
n = data[0]
adj = [[] for _ in range(n + 1)]
for i in range(n - 1):
    u, v, w = data[1 + 3 * i:4 + 3 * i]
    adj[u].append((v, w))
    adj[v].append((u, w))
parent = [0] * (n + 1)
order = []
seen = [False] * (n + 1)
seen[1] = True
stack = [1]
while stack:
    u = stack.pop()
    order.append(u)
    for v, w in adj[u]:
        if not seen[v]:
            seen[v] = True
            parent[v] = (u, w)
            stack.append(v)
down = [0] * (n + 1)
best = 0
for u in reversed(order):
    if u != 1:
        p, w = parent[u]
        best = max(best, down[p] + down[u] + w)
        down[p] = max(down[p], down[u] + w)
print(best)
''']
INCORRECT = [r'''
import sys
data = list(map(int, sys.stdin.read().split()))
n = data[0]
adj = [[] for _ in range(n + 1)]
for i in range(n - 1):
    u, v, w = data[1 + 3 * i:4 + 3 * i]
    adj[u].append((v, w))
    adj[v].append((u, w))
dist = [-1] * (n + 1)
dist[1] = 0
stack = [1]
while stack:
    u = stack.pop()
    for v, w in adj[u]:
        if dist[v] < 0:
            dist[v] = dist[u] + w
            stack.append(v)
print(max(dist))
''', r'''
import sys
data = list(map(int, sys.stdin.read().split()))
n = data[0]
adj = [[] for _ in range(n + 1)]
for i in range(n - 1):
    u, v, w = data[1 + 3 * i:4 + 3 * i]
    adj[u].append((v, w))
    adj[v].append((u, w))
best = 0
def depth(u, parent):
    global best
    top = [0, 0]
    for v, w in adj[u]:
        if v != parent:
            top.append(depth(v, u) + w)
    top.sort()
    best = max(best, top[-1] + top[-2])
    return top[-1]
depth(1, 0)
print(best)
''']
SLOW = [r'''
import sys
data = list(map(int, sys.stdin.read().split()))
n = data[0]
adj = [[] for _ in range(n + 1)]
for i in range(n - 1):
    u, v, w = data[1 + 3 * i:4 + 3 * i]
    adj[u].append((v, w))
    adj[v].append((u, w))
best = 0
for src in range(1, n + 1):
    dist = [-1] * (n + 1)
    dist[src] = 0
    stack = [src]
    while stack:
        u = stack.pop()
        for v, w in adj[u]:
            if dist[v] < 0:
                dist[v] = dist[u] + w
                stack.append(v)
    best = max(best, max(dist))
print(best)
''']


def _case(n, edges):
  return f"{n}\n" + "".join(f"{u} {v} {w}\n" for u, v, w in edges)


def _tree(rng, n, wmax, path_like=False):
  perm = list(range(1, n + 1))
  rng.shuffle(perm)
  edges = []
  for i in range(1, n):
    j = i - 1 if path_like else rng.randint(max(0, i - 5) if rng.random() < 0.5 else 0, i - 1)
    edges.append((perm[i], perm[j], rng.randint(1, wmax)))
  rng.shuffle(edges)
  return _case(n, edges)


def private_inputs(rng):
  return [_case(2, [(1, 2, 7)]), _case(3, [(2, 1, 1), (3, 1, 1)]),
          _case(4, [(1, 2, 1), (1, 3, 1), (1, 4, 10)]), _tree(rng, 3000, 10**4, path_like=True),
          _tree(rng, 12, 10)]


def generated_inputs(rng):
  return [_tree(rng, 7000, 10**4), _tree(rng, 1000, 100), _tree(rng, 40, 5)]
