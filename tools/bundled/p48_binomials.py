"""rlef/048 Committee Count: many binomial coefficients modulo a prime."""

NAME = "Committee Count"
DIFFICULTY = 3  # HARD
CF_RATING = 1600
TAGS = ["combinatorics", "math", "number theory"]
TIME_LIMIT_S = 2

STORY = """
A parliament keeps asking the same kind of question: in how many ways can a
committee of k members be chosen from n candidates? Answer q such questions,
each modulo 10^9 + 7.
"""
INPUT = """
The first line contains q (1 <= q <= 10^5). Each of the next q lines contains n
and k (0 <= n <= 10^5, 0 <= k <= 10^5).
"""
OUTPUT = """
For each question print C(n, k) modulo 1000000007 (which is 0 when k > n).
"""
EXAMPLES = [("3\n5 2\n10 0\n3 4\n", "10\n1\n0\n")]

CORRECT = [r'''
import sys
MOD = 10**9 + 7
data = list(map(int, sys.stdin.read().split()))
q = data[0]
top = max(data[1:]) if q else 0
fact = [1] * (top + 1)
for i in range(1, top + 1):
    fact[i] = fact[i - 1] * i % MOD
inv = [1] * (top + 1)
inv[top] = pow(fact[top], MOD - 2, MOD)
for i in range(top, 0, -1):
    inv[i - 1] = inv[i] * i % MOD
out = []
for i in range(q):
    n, k = data[1 + 2 * i], data[2 + 2 * i]
    out.append(0 if k > n else fact[n] * inv[k] % MOD * inv[n - k] % MOD)
print("\n".join(map(str, out)))
''', r'''
import sys
MOD = 10**9 + 7
data = list(map(int, sys.stdin.read().split()))
top = max(data[1:])
fact = [1]
for i in range(1, top + 1):
    fact.append(fact[-1] * i % MOD)
out = []
for n, k in zip(data[1::2], data[2::2]):
    if k > n:
        out.append(0)
    else:
        out.append(fact[n] * pow(fact[k] * fact[n - k] % MOD, MOD - 2, MOD) % MOD)
print(*out, sep="\n")
''']
INCORRECT = [r'''
import sys
MOD = 10**9 + 7
data = list(map(int, sys.stdin.read().split()))
q = data[0]
top = max(data[1:])
fact = [1] * (top + 1)
for i in range(1, top + 1):
    fact[i] = fact[i - 1] * i % MOD
out = []
for i in range(q):
    n, k = data[1 + 2 * i], data[2 + 2 * i]
    out.append(0 if k > n else fact[n] // (fact[k] * fact[n - k]) % MOD)
print("\n".join(map(str, out)))
''', r'''
import sys
MOD = 10**9 + 7
data = list(map(int, sys.stdin.read().split()))
q = data[0]
top = max(data[1:])
fact = [1] * (top + 1)
for i in range(1, top + 1):
    fact[i] = fact[i - 1] * i % MOD
out = []
for i in range(q):
    n, k = data[1 + 2 * i], data[2 + 2 * i]
    out.append(fact[n] * pow(fact[k] * fact[abs(n - k)], MOD - 2, MOD) % MOD)
print("\n".join(map(str, out)))
''']
SLOW = [r'''
import math
q = int(input())
for _ in range(q):
    n, k = map(int, input().split())
    print(math.comb(n, k) % (10**9 + 7))
''']


def _case(pairs):
  return f"{len(pairs)}\n" + "".join(f"{n} {k}\n" for n, k in pairs)


def private_inputs(rng):
  return [_case([(0, 0)]), _case([(1, 1), (1, 0), (0, 1)]), _case([(100000, 50000)]),
          _case([(30, 15), (60, 30), (100, 50)]),
          _case([(rng.randint(0, 20), rng.randint(0, 20)) for _ in range(30)])]


def generated_inputs(rng):
  big = []
  for _ in range(5000):
    n = rng.randint(5 * 10**4, 10**5)
    big.append((n, rng.randint(n // 3, n)))
  return [_case(big), _case([(rng.randint(0, 1000), rng.randint(0, 1000)) for _ in range(500)])]
