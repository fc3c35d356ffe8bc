"""rlef/004 Count the Vowels: count a, e, i, o, u in either case."""

NAME = "Count the Vowels"
DIFFICULTY = 1  # EASY
CF_RATING = 800
TAGS = ["implementation", "strings"]
TIME_LIMIT_S = 2

STORY = """
A singing teacher believes that a line of a song is easier to sing when it has
many vowels. Given a line, count its vowels. The vowels are the letters a, e, i,
o and u, in lower or upper case (y is not a vowel).
"""
INPUT = """
One line of at most 1000 characters: English letters, digits, spaces and
punctuation. The line is not empty.
"""
OUTPUT = """
Print the number of vowels in the line.
"""
EXAMPLES = [("hello world\n", "3\n"), ("rhythm\n", "0\n")]

CORRECT = [r'''
s = input()
print(sum(1 for c in s if c in "aeiouAEIOU"))
''', r'''
s = input().lower()
print(sum(s.count(v) for v in "aeiou"))
''']
INCORRECT = [r'''
s = input()
print(sum(1 for c in s if c in "aeiou"))
''', r'''
s = input()
print(sum(1 for c in s.lower() if c in "aeiouy"))
''']

_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ,.!?"


def _line(rng, n):
  return "".join(rng.choice(_ALPHABET) for _ in range(n)).strip() or "x"


def private_inputs(rng):
  return ["AEIOU aeiou\n", "Yellow Sky\n", "x\n", "A\n", "Queue! 1234 OoO\n",
          _line(rng, 60) + "\n"]


def generated_inputs(rng):
  return [_line(rng, rng.randint(1, 1000)) + "\n" for _ in range(3)]
