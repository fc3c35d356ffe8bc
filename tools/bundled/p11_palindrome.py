"""rlef/011 Mirror Word: is a word a palindrome?"""

NAME = "Mirror Word"
DIFFICULTY = 1  # EASY
CF_RATING = 800
TAGS = ["strings"]
TIME_LIMIT_S = 2

STORY = """
A word is a mirror word if it reads the same from left to right and from right
to left. Given several words, say which of them are mirror words.
"""
INPUT = """
The first line contains t (1 <= t <= 100). Each of the next t lines contains a
word of 1 to 100 lowercase English letters.
"""
OUTPUT = """
For each word print YES if it is a mirror word and NO otherwise.
"""
EXAMPLES = [("3\nlevel\nab\nx\n", "YES\nNO\nYES\n")]

CORRECT = [r'''
t = int(input())
for _ in range(t):
    s = input().strip()
    print("YES" if s == s[::-1] else "NO")
''', r'''
t = int(input())
for _ in range(t):
    s = input().strip()
    i, j = 0, len(s) - 1
    ok = True
    while i < j:
        if s[i] != s[j]:
            ok = False
            break
        i += 1
        j -= 1
    print("YES" if ok else "NO")
''']
INCORRECT = [r'''
t = int(input())
for _ in range(t):
    s = input().strip()
    ok = True
    for i in range(len(s) // 2):
        if s[i] != s[-i]:
            ok = False
    print("YES" if ok else "NO")
''', r'''
t = int(input())
for _ in range(t):
    s = input().strip()
    print("YES" if s[0] == s[-1] else "NO")
''']


def _word(rng, n, letters="abc"):
  return "".join(rng.choice(letters) for _ in range(n))


def _palindrome(rng, n):
  half = _word(rng, n // 2)
  return half + (_word(rng, 1) if n % 2 else "") + half[::-1]


def _case(words):
  return f"{len(words)}\n" + "".join(w + "\n" for w in words)


def private_inputs(rng):
  return [_case(["abca", "aa", "aba", "abba"]), _case(["ab"]), _case(["racecar", "abcdba"]),
          _case(["z" * 100, "a" * 50 + "b" + "a" * 49]),
          _case([_palindrome(rng, rng.randint(1, 20)) if rng.random() < 0.5
                 else _word(rng, rng.randint(1, 20)) for _ in range(50)])]


def generated_inputs(rng):
  return [_case([_palindrome(rng, rng.randint(1, 100)) if rng.random() < 0.5
                 else _word(rng, rng.randint(1, 100)) for _ in range(100)]) for _ in range(3)]
