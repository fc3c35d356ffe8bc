"""rlef/028 Hopping Frog: count ways with steps 1, 2, 3 modulo 10^9+7."""

NAME = "Hopping Frog"
DIFFICULTY = 2  # MEDIUM
CF_RATING = 1100
TAGS = ["dp"]
TIME_LIMIT_S = 2

STORY = """
A frog sits on stone 0 and wants to reach stone n. In one hop it moves 1, 2 or
3 stones forward. In how many different sequences of hops can it land exactly
on stone n? The number can be huge, so print it modulo 10^9 + 7.
"""
INPUT = """
One line with an integer n (1 <= n <= 10^5).
"""
OUTPUT = """
Print the number of hop sequences modulo 1000000007.
"""
EXAMPLES = [("3\n", "4\n"), ("5\n", "13\n")]
NOTE = """
For n = 3 the sequences are 1+1+1, 1+2, 2+1 and 3.
"""

CORRECT = [r'''
MOD = 10**9 + 7
n = int(input())
a, b, c = 0, 0, 1
for _ in range(n):
    a, b, c = b, c, (a + b + c) % MOD
print(c)
''', r'''
MOD = 10**9 + 7
n = int(input())
ways = [1] + [0] * n
for i in range(1, n + 1):
    ways[i] = sum(ways[max(0, i - 3):i]) % MOD
print(ways[n])
''']
INCORRECT = [r'''
MOD = 10**9 + 9
n = int(input())
a, b, c = 0, 0, 1
for _ in range(n):
    a, b, c = b, c, (a + b + c) % MOD
print(c)
''', r'''
MOD = 10**9 + 7
n = int(input())
ways = [1, 1, 2] + [0] * n
for i in range(3, n + 1):
    ways[i] = (ways[i - 1] + ways[i - 2] + ways[i - 3]) % MOD
print(ways[n] if n > 1 else 2)
''']


def private_inputs(rng):
  return ["1\n", "2\n", "4\n", "40\n", "100000\n", f"{rng.randint(50, 1000)}\n"]


def generated_inputs(rng):
  return [f"{rng.randint(1000, 10**5)}\n", f"{rng.randint(1, 60)}\n"]
