"""rlef/043 Bracket Repair: fewest insertions to balance a bracket string."""

NAME = "Bracket Repair"
DIFFICULTY = 2  # MEDIUM
CF_RATING = 1100
TAGS = ["greedy", "strings"]
TIME_LIMIT_S = 2

STORY = """
A string of round brackets is balanced if every '(' can be matched with a later
')' and vice versa. You may insert brackets anywhere in the string (but not
delete or move any). What is the fewest insertions that make it balanced?
"""
INPUT = """
One line with a string of 1 to 10^5 characters '(' and ')'.
"""
OUTPUT = """
Print the minimum number of brackets to insert.
"""
EXAMPLES = [("())\n", "1\n"), ("))((\n", "4\n")]

CORRECT = [r'''
s = input().strip()
open_ = need = 0
for c in s:
    if c == "(":
        open_ += 1
    elif open_:
        open_ -= 1
    else:
        need += 1
print(open_ + need)
''', r'''
s = input().strip()
depth = low = 0
for c in s:
    depth += 1 if c == "(" else -1
    low = min(low, depth)
print(-low + (depth - low))
''']
INCORRECT = [r'''
s = input().strip()
print(abs(s.count("(") - s.count(")")))
''', r'''
s = input().strip()
open_ = need = 0
for c in s:
    if c == "(":
        open_ += 1
    else:
        open_ -= 1
        if open_ < 0:
            need += 1
print(need + max(open_, 0))
''']


def _brackets(rng, n, p=0.5):
  return "".join("(" if rng.random() < p else ")" for _ in range(n)) + "\n"


def private_inputs(rng):
  return ["(\n", ")\n", "()\n", ")(\n", "(()))(()\n", "((((\n", _brackets(rng, 20)]


def generated_inputs(rng):
  return [_brackets(rng, 2 * 10**4), _brackets(rng, 5000, 0.45), _brackets(rng, 300, 0.6)]
