"""rlef/038 Rain Between Towers: water trapped over a skyline."""

NAME = "Rain Between Towers"
DIFFICULTY = 2  # MEDIUM
CF_RATING = 1500
TAGS = ["two pointers", "dp"]
TIME_LIMIT_S = 2

STORY = """
n towers of width 1 stand side by side; tower i has height h_i. After heavy
rain, water collects above the towers wherever it is held by taller towers on
both sides. How many unit squares of water are held?
"""
INPUT = """
The first line contains n (1 <= n <= 10^5). The second line contains n integers
h_1, ..., h_n (0 <= h_i <= 10^9).
"""
OUTPUT = """
Print the total amount of trapped water.
"""
EXAMPLES = [("6\n3 0 2 0 4 1\n", "7\n"), ("3\n1 2 3\n", "0\n")]

CORRECT = [r'''
input()
h = list(map(int, input().split()))
n = len(h)
left = [0] * n
right = [0] * n
m = 0
for i in range(n):
    m = max(m, h[i])
    left[i] = m
m = 0
for i in range(n - 1, -1, -1):
    m = max(m, h[i])
    right[i] = m
print(sum(min(left[i], right[i]) - h[i] for i in range(n)))
''', r'''
input()
h = list(map(int, input().split()))
i, j = 0, len(h) - 1
lmax = rmax = water = 0
while i < j:
    if h[i] <= h[j]:
        lmax = max(lmax, h[i])
        water += lmax - h[i]
        i += 1
    else:
        rmax = max(rmax, h[j])
        water += rmax - h[j]
        j -= 1
print(water)
''']
INCORRECT = [r'''
input()
h = list(map(int, input().split()))
water = 0
for i in range(1, len(h) - 1):
    water += max(0, min(h[i - 1], h[i + 1]) - h[i])
print(water)
''', r'''
input()
h = list(map(int, input().split()))
water = 0
top = h[0]
for x in h[1:]:
    if x < top:
        water += top - x
    else:
        top = x
print(water)
''']


def _case(values):
  return f"{len(values)}\n{' '.join(map(str, values))}\n"


def private_inputs(rng):
  return [_case([5]), _case([2, 0, 2]), _case([5, 0, 0, 0, 1]), _case([0, 1, 0, 2, 1, 0, 1, 3]),
          _case([10**9, 0, 10**9]), _case([rng.randint(0, 8) for _ in range(30)])]


def generated_inputs(rng):
  return [_case([rng.randint(0, 10**9) for _ in range(5000)]),
          _case([rng.randint(0, 50) for _ in range(3000)]),
          _case([rng.randint(0, 5) for _ in range(40)])]
