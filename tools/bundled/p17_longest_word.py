"""rlef/017 Longest Word: the first longest word of a sentence."""

NAME = "Longest Word"
DIFFICULTY = 1  # EASY
CF_RATING = 800
TAGS = ["implementation", "strings"]
TIME_LIMIT_S = 2

STORY = """
A crossword author looks for long words. Given a sentence, print its longest
word. If several words share the greatest length, print the one that appears
first.
"""
INPUT = """
One line with 1 to 200 words separated by single spaces; each word has 1 to 20
lowercase English letters.
"""
OUTPUT = """
Print the first longest word.
"""
EXAMPLES = [("i like long words\n", "words\n"), ("cat dog\n", "cat\n")]

CORRECT = [r'''
words = input().split()
print(max(words, key=len))
''', r'''
best = ""
for w in input().split():
    if len(w) > len(best):
        best = w
print(best)
''']
INCORRECT = [r'''
best = ""
for w in input().split():
    if len(w) >= len(best):
        best = w
print(best)
''', r'''
words = input().split()
print(sorted(words, key=len)[-1])
''']


def _sentence(rng, n, top=20):
  return " ".join("".join(rng.choice("abcdefghij") for _ in range(rng.randint(1, top)))
                  for _ in range(n)) + "\n"


def private_inputs(rng):
  return ["a\n", "ab cd ef\n", "x yy zz\n", "abc de fgh\n", _sentence(rng, 20, 4),
          _sentence(rng, 200, 3)]


def generated_inputs(rng):
  return [_sentence(rng, rng.randint(1, 200), rng.choice([3, 5, 20])) for _ in range(3)]
