"""rlef/057 Fibre Network: minimum spanning tree weight (Kruskal + union-find)."""

NAME = "Fibre Network"
DIFFICULTY = 3  # HARD
CF_RATING = 1700
TAGS = ["dsu", "graphs", "greedy"]
TIME_LIMIT_S = 2

STORY = """
An internet provider wants to connect n towns with fibre. It may lay cable
along any of m possible routes; route i joins towns u_i and v_i and costs c_i.
Find the cheapest set of routes that connects all towns, or report that the
towns cannot all be connected.
"""
INPUT = """
The first line contains n and m (1 <= n <= 2*10^5, 0 <= m <= 2*10^5). Each of
the next m lines contains u_i, v_i, c_i (1 <= u_i, v_i <= n, 1 <= c_i <= 10^6).
"""
OUTPUT = """
Print the minimum total cost, or IMPOSSIBLE if the towns cannot be connected.
"""
EXAMPLES = [("4 5\n1 2 3\n2 3 1\n3 4 4\n1 4 2\n1 3 5\n", "6\n"), ("3 1\n1 2 1\n", "IMPOSSIBLE\n")]

CORRECT = [r'''
import sys
data = list(map(int, sys.stdin.read().split()))
n, m = data[0], data[1]
edges = sorted((data[4 + 3 * i], data[2 + 3 * i], data[3 + 3 * i]) for i in range(m))
parent = list(range(n + 1))
def find(x):
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x
total, used = 0, 0
for c, u, v in edges:
    ru, rv = find(u), find(v)
    if ru != rv:
        parent[ru] = rv
        total += c
        used += 1
print(total if used == n - 1 else "IMPOSSIBLE")
''', r'''
import sys
import heapq
data = list(map(int, sys.stdin.read().split()))
n, m = data[0], data[1]
adj = [[] for _ in range(n + 1)]
for i in range(m):
    u, v, c = data[2 + 3 * i:5 + 3 * i]
    adj[u].append((c, v))
    adj[v].append((c, u))
inside = [False] * (n + 1)
heap = [(0, 1)]
total = count = 0
while heap:
    c, u = heapq.heappop(heap)
    if inside[u]:
        continue
    inside[u] = True
    total += c
    count += 1
    for edge in adj[u]:
        if not inside[edge[1]]:
            heapq.heappush(heap, edge)
print(total if count == n else "IMPOSSIBLE")
''']
INCORRECT = [r'''
import sys
data = list(map(int, sys.stdin.read().split()))
n, m = data[0], data[1]
best = {}
for i in range(m):
    u, v, c = data[2 + 3 * i:5 + 3 * i]
    for x in (u, v):
        best[x] = min(best.get(x, c), c)
if len(best) < n and n > 1:
    print("IMPOSSIBLE")
else:
    print(sum(sorted(best.values())[:n - 1]))
''', r'''
import sys
data = list(map(int, sys.stdin.read().split()))
n, m = data[0], data[1]
edges = sorted((data[4 + 3 * i], data[2 + 3 * i], data[3 + 3 * i]) for i in range(m))
parent = list(range(n + 1))
def find(x):
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x
total = 0
for c, u, v in edges:
    ru, rv = find(u), find(v)
    if ru != rv:
        parent[ru] = rv
        total += c
print(total)
''']
SLOW = [r'''
import sys
data = list(map(int, sys.stdin.read().split()))
n, m = data[0], data[1]
edges = [tuple(data[2 + 3 * i:5 + 3 * i]) for i in range(m)]
inside = [False] * (n + 1)
inside[1] = True
total = 0
for _ in range(n - 1):
    best = None
    for u, v, c in edges:
        if inside[u] != inside[v] and (best is None or c < best[2]):
            best = (u, v, c)
    if best is None:
        break
    inside[best[0]] = inside[best[1]] = True
    total += best[2]
print(total if all(inside[1:]) else "IMPOSSIBLE")
''']


def _case(n, edges):
  return f"{n} {len(edges)}\n" + "".join(f"{u} {v} {c}\n" for u, v, c in edges)


def _graph(rng, n, m, cmax, connected=True):
  edges = [] if not connected else [(rng.randint(1, v - 1), v, rng.randint(1, cmax))
                                    for v in range(2, n + 1)]
  edges += [(rng.randint(1, n), rng.randint(1, n), rng.randint(1, cmax))
            for _ in range(m - len(edges))]
  rng.shuffle(edges)
  return _case(n, edges)


def private_inputs(rng):
  return [_case(1, []), _case(2, [(1, 1, 5), (1, 2, 7), (2, 1, 3)]), _case(2, []),
          _case(4, [(1, 2, 1), (3, 4, 1)]), _case(3, [(1, 2, 5), (2, 3, 5), (1, 3, 1)]),
          _graph(rng, 10, 25, 20)]


def generated_inputs(rng):
  return [_graph(rng, 6000, 9000, 10**6), _graph(rng, 500, 400, 100, connected=False),
          _graph(rng, 60, 200, 1000)]
