"""rlef/022 Balanced Brackets: three kinds of brackets, checked with a stack."""

NAME = "Balanced Brackets"
DIFFICULTY = 2  # MEDIUM
CF_RATING = 1100
TAGS = ["data structures", "strings"]
TIME_LIMIT_S = 2

STORY = """
A code editor highlights lines whose brackets do not match. A line is balanced
if every opening bracket among '(', '[' and '{' is closed later by a bracket of
the same kind, and brackets close in the reverse order in which they opened.
"""
INPUT = """
The first line contains t (1 <= t <= 100). Each of the next t lines contains a
non-empty string of at most 10^4 characters, each one of ()[]{}.
"""
OUTPUT = """
For each string print YES if it is balanced and NO otherwise.
"""
EXAMPLES = [("4\n([]{})\n(]\n((\n{[()]}\n", "YES\nNO\nNO\nYES\n")]

CORRECT = [r'''
t = int(input())
pair = {")": "(", "]": "[", "}": "{"}
for _ in range(t):
    stack = []
    ok = True
    for c in input().strip():
        if c in "([{":
            stack.append(c)
        elif not stack or stack.pop() != pair[c]:
            ok = False
            break
    print("YES" if ok and not stack else "NO")
''', r'''
t = int(input())
for _ in range(t):
    s = input().strip()
    prev = None
    while prev != s:
        prev = s
        s = s.replace("()", "").replace("[]", "").replace("{}", "")
    print("NO" if s else "YES")
''']
INCORRECT = [r'''
t = int(input())
for _ in range(t):
    s = input().strip()
    ok = all(s.count(a) == s.count(b) for a, b in ("()", "[]", "{}"))
    print("YES" if ok else "NO")
''', r'''
t = int(input())
pair = {")": "(", "]": "[", "}": "{"}
for _ in range(t):
    stack = []
    ok = True
    for c in input().strip():
        if c in "([{":
            stack.append(c)
        elif not stack or stack.pop() != pair[c]:
            ok = False
            break
    print("YES" if ok else "NO")
''']


def _balanced(rng, n):
  out, stack = [], []
  while len(out) + len(stack) < n:
    if stack and rng.random() < 0.5:
      out.append(stack.pop())
    else:
      o, c = rng.choice(["()", "[]", "{}"])
      out.append(o)
      stack.append(c)
  return "".join(out + stack[::-1])


def _noisy(rng, n):
  s = list(_balanced(rng, n))
  i = rng.randrange(len(s))
  s[i] = rng.choice("()[]{}")
  return "".join(s)


def _case(lines):
  return f"{len(lines)}\n" + "".join(s + "\n" for s in lines)


def private_inputs(rng):
  return [_case(["([)]", ")(", "]", "()"]), _case(["(" * 5000 + ")" * 5000]),
          _case(["{}" * 10, "{[}]", "(((", "())"]),
          _case([_balanced(rng, 20) for _ in range(10)] + [_noisy(rng, 20) for _ in range(10)])]


def generated_inputs(rng):
  return [_case([_balanced(rng, 10**4) if rng.random() < 0.5 else _noisy(rng, 10**4)
                 for _ in range(10)]),
          _case([_noisy(rng, rng.randint(1, 100)) for _ in range(100)])]
