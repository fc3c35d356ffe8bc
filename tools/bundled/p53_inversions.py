"""rlef/053 Queue Swaps: count inversions with merge sort or a Fenwick tree."""

NAME = "Queue Swaps"
DIFFICULTY = 3  # HARD
CF_RATING = 1700
TAGS = ["data structures", "divide and conquer", "sortings"]
TIME_LIMIT_S = 2

STORY = """
Pupils stand in a queue and the teacher wants them sorted by height, lowest
first. She only ever swaps two neighbours standing in the wrong order (the
front one strictly taller). How many swaps will she make in total? Equal
heights are never swapped.
"""
INPUT = """
The first line contains n (1 <= n <= 2*10^5). The second line contains n
integers h_1, ..., h_n (1 <= h_i <= 10^9), from the front of the queue.
"""
OUTPUT = """
Print the number of swaps, that is the number of pairs i < j with h_i > h_j.
"""
EXAMPLES = [("4\n3 1 2 2\n", "3\n"), ("3\n1 2 3\n", "0\n")]

CORRECT = [r'''
input()
h = list(map(int, input().split()))
rank = {v: i + 1 for i, v in enumerate(sorted(set(h)))}
size = len(rank)
tree = [0] * (size + 1)
inversions = 0
for seen, x in enumerate(h):
    r = rank[x]
    not_greater = 0
    while r > 0:
        not_greater += tree[r]
        r -= r & -r
    inversions += seen - not_greater
    r = rank[x]
    while r <= size:
        tree[r] += 1
        r += r & -r
print(inversions)
''', r'''
def sort_count(a):
    if len(a) <= 1:
        return a, 0
    mid = len(a) // 2
    left, x = sort_count(a[:mid])
    right, y = sort_count(a[mid:])
    merged = []
    count = x + y
    i = j = 0
    while i < len(left) and j < len(right):
        if right[j] < left[i]:
            merged.append(right[j])
            count += len(left) - i
            j += 1
        else:
            merged.append(left[i])
            i += 1
    merged += left[i:]
    merged += right[j:]
    return merged, count
input()
print(sort_count(list(map(int, input().split())))[1])
''']
INCORRECT = [r'''
def sort_count(a):
    if len(a) <= 1:
        return a, 0
    mid = len(a) // 2
    left, x = sort_count(a[:mid])
    right, y = sort_count(a[mid:])
    merged = []
    count = x + y
    i = j = 0
    while i < len(left) and j < len(right):
        if right[j] <= left[i]:
            merged.append(right[j])
            count += len(left) - i
            j += 1
        else:
            merged.append(left[i])
            i += 1
    merged += left[i:]
    merged += right[j:]
    return merged, count
input()
print(sort_count(list(map(int, input().split())))[1])
''', r'''
input()
h = list(map(int, input().split()))
print(sum(1 for i in range(len(h) - 1) if h[i] > h[i + 1]))
''']
SLOW = [r'''
input()
h = list(map(int, input().split()))
n = len(h)
count = 0
for i in range(n):
    for j in range(i + 1, n):
        if h[i] > h[j]:
            count += 1
print(count)
''']


def _case(values):
  return f"{len(values)}\n{' '.join(map(str, values))}\n"


def private_inputs(rng):
  return [_case([1]), _case([2, 1]), _case([5, 5, 5]), _case(list(range(100, 0, -1))),
          _case([3, 3, 1, 2, 1]), _case([rng.randint(1, 5) for _ in range(30)])]


def generated_inputs(rng):
  return [_case([rng.randint(1, 10**5) for _ in range(15000)]),
          _case([rng.randint(1, 10) for _ in range(2000)]),
          _case([rng.randint(1, 10**9) for _ in range(100)])]
