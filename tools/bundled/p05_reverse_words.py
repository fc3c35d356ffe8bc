"""rlef/005 Reverse the Words: print the words of a line in reverse order."""

NAME = "Reverse the Words"
DIFFICULTY = 1  # EASY
CF_RATING = 800
TAGS = ["implementation", "strings"]
TIME_LIMIT_S = 2

STORY = """
Yoda-speak generator, a friend of yours is writing. Its first step: take a
sentence and print its words in reverse order. The letters inside each word
stay as they are.
"""
INPUT = """
One line with between 1 and 100 words separated by single spaces. Each word
consists of 1 to 10 lowercase English letters.
"""
OUTPUT = """
Print the words in reverse order, separated by single spaces.
"""
EXAMPLES = [("the force is strong\n", "strong is force the\n"), ("wow\n", "wow\n")]

CORRECT = [r'''
print(" ".join(reversed(input().split())))
''', r'''
words = input().split()
out = []
for i in range(len(words) - 1, -1, -1):
    out.append(words[i])
print(*out)
''']
INCORRECT = [r'''
print(input()[::-1])
''', r'''
words = input().split()
print(" ".join(words[len(words) - 1:0:-1]))
''']


def _line(rng, n):
  return " ".join("".join(rng.choice("abcdefghijklmnopqrstuvwxyz")
                          for _ in range(rng.randint(1, 10))) for _ in range(n)) + "\n"


def private_inputs(rng):
  return ["a b\n", "level noon\n", "x\n", _line(rng, 5), _line(rng, 100)]


def generated_inputs(rng):
  return [_line(rng, rng.randint(1, 100)) for _ in range(3)]
