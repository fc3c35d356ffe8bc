"""The paper's prompt and feedback wordings, verbatim (Gehring et al. 2025, appendix).

Copied byte for byte from the team's `paper_templates/` folder so the package
never reads outside itself; `tests/test_env_feedback.py` compares them to the
originals when that folder is present. `${...}` are `string.Template` fields.
The two EXAMPLE_* strings are the paper's filled-in examples (note the
timeout example lacks the template's final "." and puts the message on its
own line: the renderer follows the template, not the example).

Example:

    from rlef_jax.env import templates
    print(templates.CODECONTESTS_INITIAL_PROMPT)
"""

# paper_templates/codecontests_initial_prompt.txt
CODECONTESTS_INITIAL_PROMPT = (
    'Provide a Python solution for the following competitive programming question: '
    '${problem}.\n'
    '\n'
    'Your code should be enclosed in triple backticks like so: ```python YOUR CODE HERE ```. '
    'Use the backticks for your code only.')

# paper_templates/codecontests_feedback_template.txt
CODECONTESTS_FEEDBACK = (
    'Your code failed the following tests:\n'
    '\n'
    '- input `${input}` failed:\n'
    'Expected output `${expected_output}` but got `${observed_output}`\n'
    '- input `${input}` failed:\n'
    '${stacktrace}\n'
    '- input `${input}` failed: Execution took too long.\n'
    '- input `${input}` failed: Out of memory.\n'
    '\n'
    'Give it another try.\n'
    'Your code should be enclosed in triple backticks like so: ```python YOUR CODE HERE ```. '
    'Use the backticks for your code only.')

# paper_templates/humaneval_initial_prompt.txt
HUMANEVAL_INITIAL_PROMPT = (
    'Write a solution to the following problem and make sure that it passes the tests:\n'
    '${problem}')

# paper_templates/humaneval_feedback_template.txt
HUMANEVAL_FEEDBACK = (
    'Your code failed some test cases:\n'
    '\n'
    '- Failure: `${test}`:\n'
    '`${assertion_error}`\n'
    '- Failure: `${test}`:\n'
    '${stacktrace}\n'
    '- Failure: `${test}`:\n'
    'Execution took too long.\n'
    '- Success: `${test}`\n'
    '\n'
    'Give it another try.')

# paper_templates/mbpp_initial_prompt.txt
MBPP_INITIAL_PROMPT = (
    'Provide a Python solution for the following problem: ${problem}\n'
    'Your code should pass these tests:\n'
    '\n'
    '${test}\n'
    '\n'
    'Your code should be enclosed in triple backticks like so: ```python YOUR CODE HERE ```. '
    'Use the backticks for your code only.')

# paper_templates/mbpp_feedback_template.txt
MBPP_FEEDBACK = (
    'Your code failed some test cases:\n'
    '\n'
    '- Failure: `${test}`:\n'
    '`${error}`\n'
    '- Failure: `${test}`:\n'
    '${stacktrace}\n'
    '- Failure: `${test}`:\n'
    'Execution took too long.\n'
    '- Success: `${test}`\n'
    '\n'
    'Give it another try.\n'
    'Your code should be enclosed in triple backticks like so: ```python YOUR CODE HERE ```. '
    'Use the backticks for your code only.')

# paper_templates/example_feedback_wrong_answer.txt
EXAMPLE_FEEDBACK_WRONG_ANSWER = (
    'Your code failed the following tests:\n'
    '\n'
    '- input `4\n'
    '1 1\n'
    '999999999 1000000000\n'
    '8 26\n'
    '1 999999999\n'
    '` failed:\n'
    'Expected output `0\n'
    '1\n'
    '12\n'
    '499999999\n'
    '` but got `0\n'
    '1\n'
    '13\n'
    '499999999\n'
    '`\n'
    '\n'
    'Give it another try.\n'
    'Your code should be enclosed in triple backticks like so: ```python YOUR CODE HERE ```. '
    'Use the backticks for your code only.')

# paper_templates/example_feedback_timeout.txt
EXAMPLE_FEEDBACK_TIMEOUT = (
    'Your code failed the following tests:\n'
    '\n'
    '- input `4\n'
    '1 1\n'
    '999999999 1000000000\n'
    '8 26\n'
    '1 999999999\n'
    '` failed:\n'
    'Execution took too long\n'
    '\n'
    'Give it another try.\n'
    'Your code should be enclosed in triple backticks like so: ```python YOUR CODE HERE ```. '
    'Use the backticks for your code only.')

# File name -> constant, for the byte-for-byte comparison with the originals.
FILES = {
    "codecontests_initial_prompt.txt": CODECONTESTS_INITIAL_PROMPT,
    "codecontests_feedback_template.txt": CODECONTESTS_FEEDBACK,
    "humaneval_initial_prompt.txt": HUMANEVAL_INITIAL_PROMPT,
    "humaneval_feedback_template.txt": HUMANEVAL_FEEDBACK,
    "mbpp_initial_prompt.txt": MBPP_INITIAL_PROMPT,
    "mbpp_feedback_template.txt": MBPP_FEEDBACK,
    "example_feedback_wrong_answer.txt": EXAMPLE_FEEDBACK_WRONG_ANSWER,
    "example_feedback_timeout.txt": EXAMPLE_FEEDBACK_TIMEOUT,
}
