"""rlef/042 Task Order: the lexicographically smallest topological order."""

NAME = "Task Order"
DIFFICULTY = 2  # MEDIUM
CF_RATING = 1600
TAGS = ["graphs", "data structures"]
TIME_LIMIT_S = 2

STORY = """
A build system has n tasks numbered 1 to n and m rules "task a must run before
task b". Find an order to run all tasks that respects every rule. If several
orders exist, print the lexicographically smallest one (the one with the
smallest first task, then the smallest second task, and so on). If no order
exists, report it.
"""
INPUT = """
The first line contains n and m (1 <= n <= 10^5, 0 <= m <= 10^5). Each of the
next m lines contains a and b (1 <= a, b <= n, a != b).
"""
OUTPUT = """
Print the n tasks in the chosen order, separated by spaces, or -1 if the rules
contain a cycle.
"""
EXAMPLES = [("4 3\n3 1\n3 2\n4 2\n", "3 1 4 2\n"), ("2 2\n1 2\n2 1\n", "-1\n")]

CORRECT = [r'''
import sys
import heapq
data = list(map(int, sys.stdin.read().split()))
n, m = data[0], data[1]
adj = [[] for _ in range(n + 1)]
indeg = [0] * (n + 1)
for i in range(m):
    a, b = data[2 + 2 * i], data[3 + 2 * i]
    adj[a].append(b)
    indeg[b] += 1
heap = [v for v in range(1, n + 1) if indeg[v] == 0]
heapq.heapify(heap)
order = []
while heap:
    v = heapq.heappop(heap)
    order.append(v)
    for w in adj[v]:
        indeg[w] -= 1
        if indeg[w] == 0:
            heapq.heappush(heap, w)
print(*order) if len(order) == n else print(-1)
''', r'''
import sys
from bisect import insort
data = list(map(int, sys.stdin.read().split()))
n, m = data[0], data[1]
after = {}
need = [0] * (n + 1)
for a, b in zip(data[2::2], data[3::2]):
    after.setdefault(a, []).append(b)
    need[b] += 1
ready = sorted(v for v in range(1, n + 1) if need[v] == 0)
order = []
while ready:
    v = ready.pop(0)
    order.append(v)
    for w in after.get(v, []):
        need[w] -= 1
        if need[w] == 0:
            insort(ready, w)
if len(order) < n:
    print(-1)
else:
    print(" ".join(map(str, order)))
''']
INCORRECT = [r'''
import sys
from collections import deque
data = list(map(int, sys.stdin.read().split()))
n, m = data[0], data[1]
adj = [[] for _ in range(n + 1)]
indeg = [0] * (n + 1)
for i in range(m):
    a, b = data[2 + 2 * i], data[3 + 2 * i]
    adj[a].append(b)
    indeg[b] += 1
queue = deque(v for v in range(1, n + 1) if indeg[v] == 0)
order = []
while queue:
    v = queue.popleft()
    order.append(v)
    for w in sorted(adj[v]):
        indeg[w] -= 1
        if indeg[w] == 0:
            queue.append(w)
print(*order) if len(order) == n else print(-1)
''', r'''
import sys
import heapq
data = list(map(int, sys.stdin.read().split()))
n, m = data[0], data[1]
adj = [[] for _ in range(n + 1)]
indeg = [0] * (n + 1)
for i in range(m):
    a, b = data[2 + 2 * i], data[3 + 2 * i]
    adj[a].append(b)
    indeg[b] += 1
heap = [v for v in range(1, n + 1) if indeg[v] == 0]
heapq.heapify(heap)
order = []
while heap:
    v = heapq.heappop(heap)
    order.append(v)
    for w in adj[v]:
        indeg[w] -= 1
        if indeg[w] == 0:
            heapq.heappush(heap, w)
print(*order)
''']


def _case(n, edges):
  return f"{n} {len(edges)}\n" + "".join(f"{a} {b}\n" for a, b in edges)


def _dag(rng, n, m, cycle=False):
  perm = list(range(1, n + 1))
  rng.shuffle(perm)
  edges = set()
  while len(edges) < m:
    i, j = sorted(rng.sample(range(n), 2))
    edges.add((perm[i], perm[j]))
  edges = sorted(edges)
  rng.shuffle(edges)
  if cycle:
    i, j = sorted(rng.sample(range(n), 2))
    edges.append((perm[j], perm[i]))
    edges.append((perm[i], perm[j]))
  return _case(n, edges)


def private_inputs(rng):
  return [_case(1, []), _case(3, []), _case(3, [(3, 2), (2, 1)]), _case(3, [(1, 2), (2, 3), (3, 1)]),
          _case(5, [(5, 1), (4, 1), (2, 3)]), _dag(rng, 8, 10), _dag(rng, 8, 6, cycle=True)]


def generated_inputs(rng):
  return [_dag(rng, 4000, 7000), _dag(rng, 2000, 5000, cycle=True), _dag(rng, 50, 80)]
