"""rlef/010 Wall Clock: minutes since midnight to HH:MM."""

NAME = "Wall Clock"
DIFFICULTY = 1  # EASY
CF_RATING = 800
TAGS = ["implementation", "math"]
TIME_LIMIT_S = 2

STORY = """
A lighthouse keeper set a timer at midnight that counts minutes. The timer now
shows m. What does the 24-hour wall clock show now?
"""
INPUT = """
One line with an integer m (0 <= m <= 10^12).
"""
OUTPUT = """
Print the time as HH:MM, with two digits for hours (00 to 23) and two for
minutes (00 to 59).
"""
EXAMPLES = [("135\n", "02:15\n"), ("1500\n", "01:00\n")]
NOTE = """
In the second example a whole day (1440 minutes) and one more hour have passed.
"""

CORRECT = [r'''
m = int(input())
print("%02d:%02d" % (m // 60 % 24, m % 60))
''', r'''
m = int(input()) % 1440
h, mm = divmod(m, 60)
print(f"{h:02d}:{mm:02d}")
''']
INCORRECT = [r'''
m = int(input())
h = m // 60
if h >= 24:
    h -= 24
print("%02d:%02d" % (h, m % 60))
''', r'''
m = int(input())
print("%d:%d" % (m // 60 % 24, m % 60))
''']


def private_inputs(rng):
  return ["0\n", "1439\n", "1440\n", "59\n", "3000\n", "1000000000000\n",
          f"{rng.randint(0, 10**12)}\n"]


def generated_inputs(rng):
  return [f"{rng.randint(0, 10**12)}\n", f"{rng.randint(2880, 10**6)}\n", "601\n"]
