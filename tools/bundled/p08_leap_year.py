"""rlef/008 Leap Years: the Gregorian leap-year rule."""

NAME = "Leap Years"
DIFFICULTY = 1  # EASY
CF_RATING = 800
TAGS = ["implementation", "math"]
TIME_LIMIT_S = 2

STORY = """
A calendar app needs to know which years have a 29th of February. In the
Gregorian calendar a year is a leap year if it is divisible by 4, except that
years divisible by 100 are not leap years, except that years divisible by 400
are leap years again.
"""
INPUT = """
The first line contains t (1 <= t <= 1000). Each of the next t lines contains a
year y (1 <= y <= 10^9).
"""
OUTPUT = """
For each year print LEAP if it is a leap year and COMMON otherwise.
"""
EXAMPLES = [("3\n2024\n2023\n1900\n", "LEAP\nCOMMON\nCOMMON\n")]

CORRECT = [r'''
t = int(input())
for _ in range(t):
    y = int(input())
    leap = y % 400 == 0 or (y % 4 == 0 and y % 100 != 0)
    print("LEAP" if leap else "COMMON")
''', r'''
import calendar
t = int(input())
for _ in range(t):
    print("LEAP" if calendar.isleap(int(input())) else "COMMON")
''']
INCORRECT = [r'''
t = int(input())
for _ in range(t):
    y = int(input())
    print("LEAP" if y % 4 == 0 and y % 100 != 0 else "COMMON")
''', r'''
t = int(input())
for _ in range(t):
    y = int(input())
    print("LEAP" if y % 4 == 0 else "COMMON")
''']


def _case(years):
  return f"{len(years)}\n" + "".join(f"{y}\n" for y in years)


def private_inputs(rng):
  return [_case([2000]), _case([1600, 1700, 1800, 2400]), _case([1, 4, 100, 400]),
          _case([10**9, 999999996]), _case([rng.randint(1, 3000) for _ in range(100)])]


def generated_inputs(rng):
  return [_case([rng.randint(1, 10**9) for _ in range(1000)]),
          _case([400 * rng.randint(1, 10**6) for _ in range(50)]),
          _case([100 * rng.randint(1, 10**6) for _ in range(50)])]
