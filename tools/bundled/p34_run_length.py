"""rlef/034 Run-Length Encoding: compress runs of equal letters."""

NAME = "Run-Length Encoding"
DIFFICULTY = 2  # MEDIUM
CF_RATING = 1000
TAGS = ["implementation", "strings"]
TIME_LIMIT_S = 2

STORY = """
An old fax machine compresses a line of text by replacing each maximal run of
equal letters with the letter followed by the length of the run. For example,
aaabcc becomes a3b1c2. Compress a line for it.
"""
INPUT = """
One line of 1 to 10^5 lowercase English letters.
"""
OUTPUT = """
Print the compressed line.
"""
EXAMPLES = [("aaabcc\n", "a3b1c2\n"), ("z\n", "z1\n")]

CORRECT = [r'''
from itertools import groupby
s = input().strip()
print("".join(f"{c}{len(list(g))}" for c, g in groupby(s)))
''', r'''
s = input().strip()
out = []
i = 0
while i < len(s):
    j = i
    while j < len(s) and s[j] == s[i]:
        j += 1
    out.append(s[i] + str(j - i))
    i = j
print("".join(out))
''']
INCORRECT = [r'''
s = input().strip()
out = []
run = 1
for i in range(1, len(s)):
    if s[i] == s[i - 1]:
        run += 1
    else:
        out.append(s[i - 1] + str(run))
        run = 1
out.append(s[-1] + str(run) if run > 1 else "")
print("".join(out))
''', r'''
s = input().strip()
out = []
for c in sorted(set(s)):
    out.append(c + str(s.count(c)))
print("".join(out))
''']


def _runs(rng, n, letters, longest):
  out = []
  while len(out) < n:
    out += [rng.choice(letters)] * rng.randint(1, longest)
  return "".join(out[:n]) + "\n"


def private_inputs(rng):
  return ["ab\n", "aaaaaaaaaaaa\n", "abcabc\n", "aabbaa\n", "x" * 20000 + "\n",
          _runs(rng, 30, "ab", 4)]


def generated_inputs(rng):
  return [_runs(rng, 2 * 10**4, "abcdefghijklmnopqrstuvwxyz", 5), _runs(rng, 5000, "xy", 30),
          _runs(rng, 200, "abc", 3)]
