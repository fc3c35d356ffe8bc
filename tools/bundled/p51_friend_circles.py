"""rlef/051 Friend Circles: online connectivity queries with union-find."""

NAME = "Friend Circles"
DIFFICULTY = 3  # HARD
CF_RATING = 1600
TAGS = ["dsu", "graphs"]
TIME_LIMIT_S = 2

STORY = """
A new social network has n users and no friendships yet. Events arrive one by
one: either two users become friends, or someone asks whether two users are in
the same circle, meaning they are linked by a chain of friendships.
"""
INPUT = """
The first line contains n and q (1 <= n <= 2*10^5, 1 <= q <= 2*10^5). Each of
the next q lines is "F a b" (users a and b become friends) or "Q a b" (a
question), with 1 <= a, b <= n.
"""
OUTPUT = """
For each question print YES if a and b are in the same circle and NO
otherwise.
"""
EXAMPLES = [("4 5\nQ 1 2\nF 1 2\nF 2 3\nQ 1 3\nQ 3 4\n", "NO\nYES\nNO\n")]

CORRECT = [r'''
import sys
data = sys.stdin.read().split()
n, q = int(data[0]), int(data[1])
parent = list(range(n + 1))
def find(x):
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x
out = []
for i in range(q):
    kind, a, b = data[2 + 3 * i], int(data[3 + 3 * i]), int(data[4 + 3 * i])
    ra, rb = find(a), find(b)
    if kind == "F":
        parent[ra] = rb
    else:
        out.append("YES" if ra == rb else "NO")
print("\n".join(out))
''', r'''
import sys
data = sys.stdin.read().split()
n, q = int(data[0]), int(data[1])
label = list(range(n + 1))
members = [[v] for v in range(n + 1)]
out = []
for i in range(q):
    kind, a, b = data[2 + 3 * i], int(data[3 + 3 * i]), int(data[4 + 3 * i])
    la, lb = label[a], label[b]
    if kind == "Q":
        out.append("YES" if la == lb else "NO")
    elif la != lb:
        if len(members[la]) > len(members[lb]):
            la, lb = lb, la
        for v in members[la]:
            label[v] = lb
        members[lb].extend(members[la])
        members[la] = []
print("\n".join(out))
''']
INCORRECT = [r'''
import sys
data = sys.stdin.read().split()
n, q = int(data[0]), int(data[1])
parent = list(range(n + 1))
out = []
for i in range(q):
    kind, a, b = data[2 + 3 * i], int(data[3 + 3 * i]), int(data[4 + 3 * i])
    if kind == "F":
        parent[a] = parent[b]
    else:
        out.append("YES" if parent[a] == parent[b] else "NO")
print("\n".join(out))
''']
SLOW = [r'''
import sys
from collections import deque
data = sys.stdin.read().split()
n, q = int(data[0]), int(data[1])
adj = [[] for _ in range(n + 1)]
out = []
for i in range(q):
    kind, a, b = data[2 + 3 * i], int(data[3 + 3 * i]), int(data[4 + 3 * i])
    if kind == "F":
        adj[a].append(b)
        adj[b].append(a)
        continue
    seen = {a}
    queue = deque([a])
    while queue:
        u = queue.popleft()
        for v in adj[u]:
            if v not in seen:
                seen.add(v)
                queue.append(v)
    out.append("YES" if b in seen else "NO")
print("\n".join(out))
''']


def _case(n, events):
  return f"{n} {len(events)}\n" + "".join(f"{k} {a} {b}\n" for k, a, b in events)


def _random(rng, n, q, p_friend):
  return _case(n, [("F" if rng.random() < p_friend else "Q", rng.randint(1, n), rng.randint(1, n))
                   for _ in range(q)])


def private_inputs(rng):
  return [_case(1, [("Q", 1, 1)]), _case(3, [("F", 1, 2), ("F", 3, 2), ("Q", 1, 3), ("Q", 3, 1)]),
          _case(5, [("F", 1, 2), ("F", 3, 4), ("F", 2, 3), ("Q", 4, 1), ("Q", 5, 1)]),
          _case(4, [("F", 1, 1), ("Q", 1, 2), ("F", 4, 3), ("F", 1, 3), ("Q", 2, 4), ("Q", 1, 4)]),
          _random(rng, 10, 30, 0.4)]


def generated_inputs(rng):
  return [_random(rng, 5000, 14000, 0.6), _random(rng, 1000, 2000, 0.3), _random(rng, 30, 60, 0.3)]
