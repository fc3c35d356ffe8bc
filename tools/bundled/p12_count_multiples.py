"""rlef/012 Bus Stops: count multiples of k in a range."""

NAME = "Bus Stops"
DIFFICULTY = 1  # EASY
CF_RATING = 900
TAGS = ["math"]
TIME_LIMIT_S = 2

STORY = """
Along an endless road there is a bus stop at every kilometre mark divisible by
k (including mark 0). A cyclist rides from mark a to mark b. How many bus stops
does she pass, counting stops exactly at a or b?
"""
INPUT = """
One line with three integers a, b, k (0 <= a <= b <= 10^18, 1 <= k <= 10^18).
"""
OUTPUT = """
Print the number of integers x with a <= x <= b that are divisible by k.
"""
EXAMPLES = [("4 12 4\n", "3\n"), ("5 7 10\n", "0\n")]

CORRECT = [r'''
a, b, k = map(int, input().split())
print(b // k - (a - 1) // k)
''', r'''
a, b, k = map(int, input().split())
first = (a + k - 1) // k * k
print(0 if first > b else (b - first) // k + 1)
''']
INCORRECT = [r'''
a, b, k = map(int, input().split())
print((b - a) // k + 1)
''', r'''
a, b, k = map(int, input().split())
print(b // k - a // k)
''']


def private_inputs(rng):
  return ["0 0 1\n", "0 0 7\n", "1 1 1\n", "3 5 4\n", "0 10**18 1\n".replace("10**18", str(10**18)),
          f"{10**18} {10**18} {10**18}\n", "10 19 10\n", "11 20 10\n",
          f"{rng.randint(0, 1000)} {rng.randint(1000, 5000)} {rng.randint(1, 50)}\n"]


def generated_inputs(rng):
  out = []
  for _ in range(4):
    a = rng.randint(0, 10**18)
    b = rng.randint(a, 10**18)
    out.append(f"{a} {b} {rng.randint(1, 10**rng.randint(1, 12))}\n")
  return out
