"""rlef/039 Synchronised Lights: the least common multiple of n periods."""

NAME = "Synchronised Lights"
DIFFICULTY = 2  # MEDIUM
CF_RATING = 1200
TAGS = ["math", "number theory"]
TIME_LIMIT_S = 2

STORY = """
n lamps are switched on together at time 0; lamp i then blinks every p_i
seconds. After how many seconds do all lamps blink together again for the
first time?
"""
INPUT = """
The first line contains n (1 <= n <= 100). The second line contains n integers
p_1, ..., p_n (1 <= p_i <= 10^6). The answer is guaranteed not to exceed 10^15.
"""
OUTPUT = """
Print the least common multiple of p_1, ..., p_n.
"""
EXAMPLES = [("3\n4 6 10\n", "60\n"), ("2\n3 5\n", "15\n")]

CORRECT = [r'''
from math import gcd
input()
l = 1
for p in map(int, input().split()):
    l = l * p // gcd(l, p)
print(l)
''', r'''
input()
p = list(map(int, input().split()))
exps = {}
for x in p:
    d = 2
    while d * d <= x:
        e = 0
        while x % d == 0:
            x //= d
            e += 1
        if e:
            exps[d] = max(exps.get(d, 0), e)
        d += 1
    if x > 1:
        exps[x] = max(exps.get(x, 0), 1)
ans = 1
for q, e in exps.items():
    ans *= q ** e
print(ans)
''']
INCORRECT = [r'''
from math import gcd
input()
p = list(map(int, input().split()))
g = 0
prod = 1
for x in p:
    g = gcd(g, x)
    prod *= x
print(prod // g if len(p) > 1 else p[0])
''', r'''
input()
p = list(map(int, input().split()))
t = max(p)
while any(t % x for x in p):
    t += max(p)
    if t > 10**7:
        break
print(t)
''']


def _case(values):
  return f"{len(values)}\n{' '.join(map(str, values))}\n"


def _bounded(rng, n, hi):
  from math import gcd
  out, l = [], 1
  while len(out) < n:
    x = rng.randint(1, hi)
    nl = l * x // gcd(l, x)
    if nl <= 10**15:
      out.append(x)
      l = nl
  return out


def private_inputs(rng):
  return [_case([7]), _case([1, 1]), _case([6, 10, 15]), _case([10**6, 999999]),
          _case([2, 4, 8, 16]), _case([999983, 999979]), _case(_bounded(rng, 6, 30))]


def generated_inputs(rng):
  return [_case(_bounded(rng, 100, 60)), _case(_bounded(rng, 5, 10**6)),
          _case([rng.choice([12, 18, 30, 45]) for _ in range(100)])]
