"""rlef/050 Mountain Roads: single-source shortest paths (Dijkstra)."""

NAME = "Mountain Roads"
DIFFICULTY = 3  # HARD
CF_RATING = 1700
TAGS = ["graphs", "shortest paths"]
TIME_LIMIT_S = 2

STORY = """
A mountain region has n villages joined by m two-way roads; road i joins
villages u_i and v_i and takes w_i minutes to drive. A doctor lives in village
1. For every village, how long does the doctor need to get there?
"""
INPUT = """
The first line contains n and m (1 <= n <= 2*10^5, 0 <= m <= 2*10^5). Each of
the next m lines contains u_i, v_i, w_i (1 <= u_i, v_i <= n, 1 <= w_i <= 10^6).
"""
OUTPUT = """
Print n integers: the shortest driving time from village 1 to villages
1, ..., n, or -1 for a village that cannot be reached.
"""
EXAMPLES = [("4 4\n1 2 5\n1 3 1\n3 2 2\n2 4 7\n", "0 3 1 10\n"), ("3 1\n1 2 4\n", "0 4 -1\n")]

CORRECT = [r'''
import sys
import heapq
data = list(map(int, sys.stdin.read().split()))
n, m = data[0], data[1]
adj = [[] for _ in range(n + 1)]
for i in range(m):
    u, v, w = data[2 + 3 * i:5 + 3 * i]
    adj[u].append((v, w))
    adj[v].append((u, w))
dist = [-1] * (n + 1)
heap = [(0, 1)]
while heap:
    d, u = heapq.heappop(heap)
    if dist[u] >= 0:
        continue
    dist[u] = d
    for v, w in adj[u]:
        if dist[v] < 0:
            heapq.heappush(heap, (d + w, v))
print(*dist[1:])
''', r'''
import sys
from heapq import heappush, heappop
data = sys.stdin.buffer.read().split()
n, m = int(data[0]), int(data[1])
adj = {}
for i in range(m):
    u, v, w = int(data[2 + 3 * i]), int(data[3 + 3 * i]), int(data[4 + 3 * i])
    adj.setdefault(u, []).append((v, w))
    adj.setdefault(v, []).append((u, w))
INF = float("inf")
best = [INF] * (n + 1)
best[1] = 0
heap = [(0, 1)]
while heap:
    d, u = heappop(heap)
    if d > best[u]:
        continue
    for v, w in adj.get(u, ()):
        if d + w < best[v]:
            best[v] = d + w
            heappush(heap, (d + w, v))
print(" ".join(str(x) if x < INF else "-1" for x in best[1:]))
''']
INCORRECT = [r'''
import sys
from collections import deque
data = list(map(int, sys.stdin.read().split()))
n, m = data[0], data[1]
adj = [[] for _ in range(n + 1)]
for i in range(m):
    u, v, w = data[2 + 3 * i:5 + 3 * i]
    adj[u].append((v, w))
    adj[v].append((u, w))
dist = [-1] * (n + 1)
dist[1] = 0
queue = deque([1])
while queue:
    u = queue.popleft()
    for v, w in adj[u]:
        if dist[v] < 0:
            dist[v] = dist[u] + w
            queue.append(v)
print(*dist[1:])
''', r'''
import sys
import heapq
data = list(map(int, sys.stdin.read().split()))
n, m = data[0], data[1]
adj = [[] for _ in range(n + 1)]
for i in range(m):
    u, v, w = data[2 + 3 * i:5 + 3 * i]
    adj[u].append((v, w))
dist = [-1] * (n + 1)
heap = [(0, 1)]
while heap:
    d, u = heapq.heappop(heap)
    if dist[u] >= 0:
        continue
    dist[u] = d
    for v, w in adj[u]:
        if dist[v] < 0:
            heapq.heappush(heap, (d + w, v))
print(*dist[1:])
''']
SLOW = [r'''
import sys
data = list(map(int, sys.stdin.read().split()))
n, m = data[0], data[1]
adj = [[] for _ in range(n + 1)]
for i in range(m):
    u, v, w = data[2 + 3 * i:5 + 3 * i]
    adj[u].append((v, w))
    adj[v].append((u, w))
INF = float("inf")
dist = [INF] * (n + 1)
dist[1] = 0
done = [False] * (n + 1)
for _ in range(n):
    u = -1
    for v in range(1, n + 1):
        if not done[v] and (u < 0 or dist[v] < dist[u]):
            u = v
    if dist[u] == INF:
        break
    done[u] = True
    for v, w in adj[u]:
        if dist[u] + w < dist[v]:
            dist[v] = dist[u] + w
print(*(d if d < INF else -1 for d in dist[1:]))
''']


def _case(n, edges):
  return f"{n} {len(edges)}\n" + "".join(f"{u} {v} {w}\n" for u, v, w in edges)


def _graph(rng, n, m, wmax):
  edges = [(rng.randint(1, v - 1), v, rng.randint(1, wmax)) for v in range(2, n + 1)]
  edges += [(rng.randint(1, n), rng.randint(1, n), rng.randint(1, wmax))
            for _ in range(m - len(edges))]
  rng.shuffle(edges)
  return _case(n, edges)


def private_inputs(rng):
  return [_case(1, []), _case(2, [(2, 2, 3)]), _case(3, [(1, 2, 5), (1, 2, 2), (2, 3, 1)]),
          _case(4, [(1, 2, 1), (2, 3, 1), (3, 4, 1), (1, 4, 5)]),
          _case(5, [(2, 3, 1), (4, 5, 1)]), _graph(rng, 10, 20, 10)]


def generated_inputs(rng):
  return [_graph(rng, 8000, 10000, 10**6), _graph(rng, 1000, 3000, 5), _graph(rng, 50, 100, 100)]
