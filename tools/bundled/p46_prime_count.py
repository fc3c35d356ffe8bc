"""rlef/046 Prime Lamps: count primes up to N with a sieve."""

NAME = "Prime Lamps"
DIFFICULTY = 3  # HARD
CF_RATING = 1500
TAGS = ["math", "number theory"]
TIME_LIMIT_S = 2

STORY = """
A street has lamps numbered 1 to N. The mayor lights exactly the lamps whose
numbers are prime. How many lamps are lit? Recall that a prime is an integer
greater than 1 whose only positive divisors are 1 and itself.
"""
INPUT = """
One line with an integer N (1 <= N <= 5*10^6).
"""
OUTPUT = """
Print the number of primes p with p <= N.
"""
EXAMPLES = [("10\n", "4\n"), ("1\n", "0\n")]

CORRECT = [r'''
n = int(input())
if n < 2:
    print(0)
else:
    sieve = bytearray([1]) * (n + 1)
    sieve[0] = sieve[1] = 0
    i = 2
    while i * i <= n:
        if sieve[i]:
            sieve[i * i::i] = bytes(len(range(i * i, n + 1, i)))
        i += 1
    print(sum(sieve))
''', r'''
n = int(input())
if n < 2:
    print(0)
else:
    half = bytearray([1]) * ((n + 1) // 2)
    half[0] = 0
    i = 3
    while i * i <= n:
        if half[i // 2]:
            start = i * i // 2
            half[start::i] = bytes(len(range(start, len(half), i)))
        i += 2
    print(sum(half) + 1)
''']
INCORRECT = [r'''
n = int(input())
sieve = bytearray([1]) * (n + 1)
i = 2
while i * i <= n:
    if sieve[i]:
        sieve[i * i::i] = bytes(len(range(i * i, n + 1, i)))
    i += 1
print(sum(sieve) - 1)
''', r'''
n = int(input())
sieve = bytearray([1]) * (n + 1)
sieve[0] = sieve[1] = 0
i = 2
while i * i < n:
    if sieve[i]:
        sieve[i * i::i] = bytes(len(range(i * i, n + 1, i)))
    i += 1
print(sum(sieve))
''']
SLOW = [r'''
n = int(input())
count = 0
for x in range(2, n + 1):
    d = 2
    while d * d <= x:
        if x % d == 0:
            break
        d += 1
    else:
        count += 1
print(count)
''']


def private_inputs(rng):
  return ["2\n", "3\n", "4\n", "49\n", "121\n", "5000000\n", f"{rng.randint(100, 1000)}\n"]


def generated_inputs(rng):
  return [f"{rng.randint(4 * 10**6, 5 * 10**6)}\n", f"{rng.randint(1000, 10**5)}\n", "9973\n"]
