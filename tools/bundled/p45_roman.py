"""rlef/045 Roman Numerals: convert to decimal."""

NAME = "Roman Numerals"
DIFFICULTY = 2  # MEDIUM
CF_RATING = 1000
TAGS = ["implementation", "strings"]
TIME_LIMIT_S = 2

STORY = """
A museum catalogue lists years in Roman numerals. The letters mean I = 1,
V = 5, X = 10, L = 50, C = 100, D = 500, M = 1000; a letter followed by a
larger one is subtracted (IV = 4, XC = 90, CM = 900), otherwise letters are
added. Convert the catalogue to decimal.
"""
INPUT = """
The first line contains t (1 <= t <= 1000). Each of the next t lines contains a
valid Roman numeral for a number between 1 and 3999.
"""
OUTPUT = """
For each numeral print its value.
"""
EXAMPLES = [("3\nXIV\nMMXXIV\nCDXLIV\n", "14\n2024\n444\n")]

CORRECT = [r'''
value = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
t = int(input())
for _ in range(t):
    s = input().strip()
    total = 0
    for i, c in enumerate(s):
        if i + 1 < len(s) and value[s[i + 1]] > value[c]:
            total -= value[c]
        else:
            total += value[c]
    print(total)
''', r'''
t = int(input())
table = [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
         (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]
for _ in range(t):
    s = input().strip()
    total = 0
    for v, r in table:
        while s.startswith(r):
            total += v
            s = s[len(r):]
    print(total)
''']
INCORRECT = [r'''
value = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
t = int(input())
for _ in range(t):
    print(sum(value[c] for c in input().strip()))
''', r'''
value = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
t = int(input())
for _ in range(t):
    s = input().strip()
    total = 0
    for i in range(len(s) - 1):
        if value[s[i + 1]] > value[s[i]]:
            total -= value[s[i]]
        else:
            total += value[s[i]]
    if len(s) > 1:
        total += value[s[-1]]
    print(total)
''']


def _roman(x):
  out = ""
  for v, r in [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
               (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]:
    while x >= v:
      out += r
      x -= v
  return out


def _case(values):
  return f"{len(values)}\n" + "".join(_roman(v) + "\n" for v in values)


def private_inputs(rng):
  return [_case([1]), _case([3999]), _case([4, 9, 40, 90, 400, 900]), _case([1994, 3888]),
          _case([rng.randint(1, 3999) for _ in range(20)])]


def generated_inputs(rng):
  return [_case([rng.randint(1, 3999) for _ in range(1000)]),
          _case([rng.randint(1, 50) for _ in range(100)])]
