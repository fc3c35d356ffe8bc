"""rlef/009 Ping Pong Count: a FizzBuzz with custom divisors."""

NAME = "Ping Pong Count"
DIFFICULTY = 1  # EASY
CF_RATING = 800
TAGS = ["implementation"]
TIME_LIMIT_S = 2

STORY = """
Children sit in a circle and count aloud from 1 to n. Instead of a number
divisible by both a and b they shout PingPong, instead of a number divisible
only by a they shout Ping, and instead of a number divisible only by b they
shout Pong. Print what is said.
"""
INPUT = """
One line with three integers n, a, b (1 <= n <= 1000, 2 <= a, b <= 100).
"""
OUTPUT = """
Print n lines: the i-th line is what is said instead of (or as) the number i.
"""
EXAMPLES = [("7 2 3\n", "1\nPing\nPong\nPing\n5\nPingPong\n7\n")]

CORRECT = [r'''
n, a, b = map(int, input().split())
for i in range(1, n + 1):
    word = ("Ping" if i % a == 0 else "") + ("Pong" if i % b == 0 else "")
    print(word or i)
''', r'''
n, a, b = map(int, input().split())
out = []
for i in range(1, n + 1):
    if i % a == 0 and i % b == 0:
        out.append("PingPong")
    elif i % a == 0:
        out.append("Ping")
    elif i % b == 0:
        out.append("Pong")
    else:
        out.append(str(i))
print("\n".join(out))
''']
INCORRECT = [r'''
n, a, b = map(int, input().split())
for i in range(1, n + 1):
    if i % (a * b) == 0:
        print("PingPong")
    elif i % a == 0:
        print("Ping")
    elif i % b == 0:
        print("Pong")
    else:
        print(i)
''', r'''
n, a, b = map(int, input().split())
for i in range(1, n):
    word = ("Ping" if i % a == 0 else "") + ("Pong" if i % b == 0 else "")
    print(word or i)
''']


def private_inputs(rng):
  return ["1 2 3\n", "12 4 6\n", "20 5 5\n", "30 2 4\n", "100 3 5\n",
          f"{rng.randint(50, 200)} {rng.randint(2, 10)} {rng.randint(2, 10)}\n"]


def generated_inputs(rng):
  return [f"1000 {rng.randint(2, 30)} {rng.randint(2, 30)}\n",
          f"{rng.randint(1, 1000)} {rng.randint(2, 100)} {rng.randint(2, 100)}\n",
          "1000 6 4\n"]
