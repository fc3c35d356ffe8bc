"""rlef/032 Anagram Families: count classes of words equal up to reordering."""

NAME = "Anagram Families"
DIFFICULTY = 2  # MEDIUM
CF_RATING = 1100
TAGS = ["strings", "hashing", "sortings"]
TIME_LIMIT_S = 2

STORY = """
Two words are relatives if one is an anagram of the other: the same letters,
each used the same number of times, in any order. Relatives form families.
Given a list of words, how many families are there?
"""
INPUT = """
The first line contains n (1 <= n <= 10^4). Each of the next n lines contains a
word of 1 to 20 lowercase English letters. Words may repeat.
"""
OUTPUT = """
Print the number of families.
"""
EXAMPLES = [("5\nlisten\nsilent\nenlist\ngoogle\nelgoog\n", "2\n")]

CORRECT = [r'''
import sys
words = sys.stdin.read().split()[1:]
print(len({"".join(sorted(w)) for w in words}))
''', r'''
import sys
from collections import Counter
words = sys.stdin.read().split()[1:]
print(len({tuple(sorted(Counter(w).items())) for w in words}))
''']
INCORRECT = [r'''
import sys
words = sys.stdin.read().split()[1:]
print(len({frozenset(w) for w in words}))
''', r'''
import sys
words = sys.stdin.read().split()[1:]
print(len({(len(w), sum(map(ord, w))) for w in words}))
''']


def _case(words):
  return f"{len(words)}\n" + "".join(w + "\n" for w in words)


def _word(rng, n, letters):
  return "".join(rng.choice(letters) for _ in range(n))


def private_inputs(rng):
  return [_case(["a"]), _case(["ab", "ba", "ab"]), _case(["aab", "abb"]),
          _case(["ad", "bc"]), _case(["abc", "cab", "bca", "abcd"]),
          _case([_word(rng, rng.randint(1, 4), "abc") for _ in range(30)])]


def generated_inputs(rng):
  return [_case([_word(rng, rng.randint(1, 20), "abcdefghijklmnopqrstuvwxyz")
                 for _ in range(3000)]),
          _case([_word(rng, rng.randint(2, 6), "abcd") for _ in range(3000)]),
          _case([_word(rng, 3, "ace") for _ in range(200)])]
