"""rlef/016 Secret Note: a Caesar shift by a huge k."""

NAME = "Secret Note"
DIFFICULTY = 1  # EASY
CF_RATING = 900
TAGS = ["implementation", "strings"]
TIME_LIMIT_S = 2

STORY = """
Two spies encode notes by moving every letter k places forward in the alphabet,
wrapping around from z to a. Encode a note for them.
"""
INPUT = """
The first line contains k (0 <= k <= 10^9). The second line contains the note:
1 to 1000 lowercase English letters.
"""
OUTPUT = """
Print the encoded note.
"""
EXAMPLES = [("3\nabcxyz\n", "defabc\n"), ("0\nhello\n", "hello\n")]

CORRECT = [r'''
k = int(input())
s = input().strip()
print("".join(chr((ord(c) - 97 + k) % 26 + 97) for c in s))
''', r'''
import string
k = int(input()) % 26
s = input().strip()
a = string.ascii_lowercase
print(s.translate(str.maketrans(a, a[k:] + a[:k])))
''']
INCORRECT = [r'''
k = int(input())
s = input().strip()
out = ""
for c in s:
    x = ord(c) + k
    if x > ord("z"):
        x -= 26
    out += chr(x)
print(out)
''', r'''
k = int(input())
s = input().strip()
print("".join(chr((ord(c) - 97 + k) % 25 + 97) for c in s))
''']


def _note(rng, n):
  return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(n))


def private_inputs(rng):
  return ["26\nabc\n", "25\nz\n", "52\nzebra\n", "1000000000\nabcdefghijklmnopqrstuvwxyz\n",
          "13\nuryyb\n", f"{rng.randint(27, 10**9)}\n{_note(rng, 30)}\n"]


def generated_inputs(rng):
  return [f"{rng.randint(0, 10**9)}\n{_note(rng, rng.randint(1, 1000))}\n" for _ in range(3)]
