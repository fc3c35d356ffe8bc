"""rlef/030 Common Thread: longest common subsequence of two strings."""

NAME = "Common Thread"
DIFFICULTY = 2  # MEDIUM
CF_RATING = 1500
TAGS = ["dp", "strings"]
TIME_LIMIT_S = 3

STORY = """
Two versions of a DNA fragment differ by insertions and deletions. Biologists
measure how much they share by the length of the longest common subsequence:
the longest string that can be obtained from both by deleting some characters
(not necessarily adjacent) without reordering the rest.
"""
INPUT = """
Two lines, each a string of 1 to 500 characters from A, C, G, T.
"""
OUTPUT = """
Print the length of the longest common subsequence.
"""
EXAMPLES = [("ACGTAG\nCGAAG\n", "4\n"), ("AAA\nTTT\n", "0\n")]

CORRECT = [r'''
a = input().strip()
b = input().strip()
prev = [0] * (len(b) + 1)
for x in a:
    cur = [0]
    for j, y in enumerate(b):
        cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
    prev = cur
print(prev[-1])
''', r'''
a = input().strip()
b = input().strip()
table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
for i in range(len(a) - 1, -1, -1):
    for j in range(len(b) - 1, -1, -1):
        if a[i] == b[j]:
            table[i][j] = table[i + 1][j + 1] + 1
        else:
            table[i][j] = max(table[i + 1][j], table[i][j + 1])
print(table[0][0])
''']
INCORRECT = [r'''
a = input().strip()
b = input().strip()
best = 0
prev = [0] * (len(b) + 1)
for x in a:
    cur = [0]
    for j, y in enumerate(b):
        cur.append(prev[j] + 1 if x == y else 0)
    best = max(best, max(cur))
    prev = cur
print(best)
''', r'''
a = input().strip()
b = input().strip()
j = count = 0
for x in a:
    k = b.find(x, j)
    if k >= 0:
        count += 1
        j = k + 1
print(count)
''']


def _dna(rng, n):
  return "".join(rng.choice("ACGT") for _ in range(n))


def private_inputs(rng):
  return ["A\nA\n", "A\nC\n", "ACGT\nTGCA\n", "GATTACA\nTACGATA\n", "AAAA\nAA\n",
          f"{_dna(rng, 30)}\n{_dna(rng, 25)}\n"]


def generated_inputs(rng):
  return [f"{_dna(rng, 500)}\n{_dna(rng, 500)}\n",
          f"{_dna(rng, rng.randint(1, 500))}\n{_dna(rng, rng.randint(1, 500))}\n",
          f"{_dna(rng, 100)}\n{_dna(rng, 300)}\n"]
