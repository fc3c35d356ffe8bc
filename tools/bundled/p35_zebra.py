"""rlef/035 Zebra Stripes: fewest flips to make a binary string alternate."""

NAME = "Zebra Stripes"
DIFFICULTY = 2  # MEDIUM
CF_RATING = 1000
TAGS = ["greedy", "strings"]
TIME_LIMIT_S = 2

STORY = """
A row of n tiles is painted black (1) or white (0). A row looks like a zebra if
no two neighbouring tiles have the same colour. Repainting a tile costs one
coin. What is the cheapest way to make the row look like a zebra?
"""
INPUT = """
One line with a string of 1 to 10^5 characters 0 and 1.
"""
OUTPUT = """
Print the minimum number of tiles to repaint.
"""
EXAMPLES = [("0010\n", "1\n"), ("1111\n", "2\n")]

CORRECT = [r'''
s = input().strip()
a = sum(1 for i, c in enumerate(s) if int(c) != i % 2)
print(min(a, len(s) - a))
''', r'''
s = input().strip()
n = len(s)
p = ("01" * (n // 2 + 1))[:n]
q = ("10" * (n // 2 + 1))[:n]
print(min(sum(x != y for x, y in zip(s, p)), sum(x != y for x, y in zip(s, q))))
''']
INCORRECT = [r'''
s = input().strip()
print(sum(1 for i, c in enumerate(s) if int(c) != i % 2))
''', r'''
s = input().strip()
flips = 0
prev = s[0]
for c in s[1:]:
    if c == prev:
        flips += 1
        prev = "1" if c == "0" else "0"
    else:
        prev = c
print(flips)
''']


def _bits(rng, n, p=0.5):
  return "".join("1" if rng.random() < p else "0" for _ in range(n)) + "\n"


def private_inputs(rng):
  return ["0\n", "1\n", "10\n", "1010101\n", "0110\n", "110\n", "1" * 20000 + "\n",
          _bits(rng, 20)]


def generated_inputs(rng):
  return [_bits(rng, 2 * 10**4), _bits(rng, 999, 0.9), _bits(rng, 50, 0.3)]
