"""rlef/047 Rabbit Census: huge Fibonacci numbers modulo 10^9+7."""

NAME = "Rabbit Census"
DIFFICULTY = 3  # HARD
CF_RATING = 1700
TAGS = ["math", "matrices"]
TIME_LIMIT_S = 2

STORY = """
A rabbit farm follows the classic rule: F(0) = 0, F(1) = 1 and
F(n) = F(n - 1) + F(n - 2) for n >= 2. The farm's accountant needs F(n) for
some very large n, modulo 10^9 + 7.
"""
INPUT = """
The first line contains t (1 <= t <= 1000). Each of the next t lines contains
n (0 <= n <= 10^18).
"""
OUTPUT = """
For each n print F(n) modulo 1000000007.
"""
EXAMPLES = [("3\n0\n10\n50\n", "0\n55\n586268941\n")]

CORRECT = [r'''
import sys
MOD = 10**9 + 7
def fib(n):
    if n == 0:
        return 0, 1
    a, b = fib(n >> 1)
    c = a * (2 * b - a) % MOD
    d = (a * a + b * b) % MOD
    return (d, (c + d) % MOD) if n & 1 else (c, d)
data = sys.stdin.read().split()
print("\n".join(str(fib(int(x))[0]) for x in data[1:]))
''', r'''
import sys
MOD = 10**9 + 7
def mul(x, y):
    return [[(x[0][0] * y[0][0] + x[0][1] * y[1][0]) % MOD, (x[0][0] * y[0][1] + x[0][1] * y[1][1]) % MOD],
            [(x[1][0] * y[0][0] + x[1][1] * y[1][0]) % MOD, (x[1][0] * y[0][1] + x[1][1] * y[1][1]) % MOD]]
def fib(n):
    result = [[1, 0], [0, 1]]
    base = [[1, 1], [1, 0]]
    while n:
        if n & 1:
            result = mul(result, base)
        base = mul(base, base)
        n >>= 1
    return result[0][1]
data = sys.stdin.read().split()
for x in data[1:]:
    print(fib(int(x)))
''']
INCORRECT = [r'''
import sys
MOD = 10**9 + 7
def fib(n):
    if n == 0:
        return 0, 1
    a, b = fib(n >> 1)
    c = a * (2 * b - a) % MOD
    d = (a * a + b * b) % MOD
    return (d, (c + d) % MOD) if n & 1 else (c, d)
data = sys.stdin.read().split()
# F(n) mod p repeats with period p - 1 (Fermat), so reduce n first.
print("\n".join(str(fib(int(x) % (MOD - 1))[0]) for x in data[1:]))
''']
SLOW = [r'''
MOD = 10**9 + 7
t = int(input())
for _ in range(t):
    n = int(input())
    a, b = 0, 1
    for _ in range(n):
        a, b = b, (a + b) % MOD
    print(a)
''']


def _case(values):
  return f"{len(values)}\n" + "".join(f"{v}\n" for v in values)


def private_inputs(rng):
  return [_case([1, 2, 3]), _case([10**18]), _case([90, 91, 92]), _case(list(range(30))),
          _case([rng.randint(0, 10**5) for _ in range(5)])]


def generated_inputs(rng):
  return [_case([rng.randint(0, 10**18) for _ in range(1000)]),
          _case([rng.randint(10**6, 10**9) for _ in range(20)]),
          _case([rng.randint(0, 1000) for _ in range(50)])]
