"""The templates the web page tests work on (each test has its own, so the order of tests does not matter)."""

from __future__ import annotations

FORM_SOURCE = """---
title: Web form probe
description: Checks code in one language; every kind of argument.
category: testing
tags: [probe, form]
arguments:
  - name: language
    description: Programming language of the code
    required: true
  - name: focus
    description: What to look at first
    default: correctness
    enum: [correctness, security, style]
  - name: max_issues
    description: How many issues to list at most
    type: integer
    default: 5
  - name: strict
    description: Report nitpicks too
    type: boolean
    default: false
---
system:
You review {{ language }} code.

user:
Find at most {{ max_issues }} issues, {{ focus }} first{% if strict %}, nitpicks included{% endif %}.
"""


def simple(description: str, body: str) -> str:
    """A template with one argument ``who``."""
    return (
        f"---\ndescription: {description}\narguments:\n  - name: who\n    description: Who to greet\n---\n"
        f"user:\n{body}\n"
    )


# Hostile text wherever free text may go: each payload would set window.__pwned if it ever ran.
HOSTILE_SOURCE = """---
title: "<script>window.__pwned = 'title'</script>"
description: "<img src=x onerror=\\"window.__pwned = 'description'\\"> and <a href='javascript:window.__pwned=1'>x</a>"
tags: ["<svg onload=window.__pwned=1>"]
arguments:
  - name: who
    description: "<img src=x onerror=\\"window.__pwned = 'argument'\\">"
    default: "\\"><script>window.__pwned = 'default'</script>"
---
user:
<script>window.__pwned = 'body'</script><img src=x onerror="window.__pwned = 'body-img'">
<a href="javascript:window.__pwned = 'link'">click</a> {{ who }}
"""

ENHANCED = (
    "---\ndescription: Greets someone by name in one friendly sentence.\narguments:\n"
    "  - name: who\n    description: The name of the person to greet, e.g. Ada\n---\n"
    "system:\nYou write short greetings.\n\nuser:\nGreet {{ who }} in one friendly sentence.\n"
)
ENHANCE_ANSWER = f"```markdown\n{ENHANCED}```\n\n- Added a role and an explicit length.\n"

STORE = {
    "enhance-demo": [simple("Greets someone.", "Hello {{ who }}!")],
    "web-form-probe": [FORM_SOURCE],
    "greet-edit": [simple("Greets someone for the editor test.", "Hello {{ who }}!")],
    "greet-conflict": [simple("Greets someone for the conflict test.", "Hello {{ who }}!")],
    "history-demo": [
        simple("History demo, first wording.", "Hello {{ who }}!"),
        simple("History demo, second wording.", "Hi there, {{ who }}!"),
        simple("History demo, third wording.", "Good morning, {{ who }}. Welcome back!"),
    ],
    "label-demo": [
        simple("Label demo, first wording.", "Hello {{ who }}!"),
        simple("Label demo, second wording.", "Hi {{ who }}!"),
    ],
    "usage-demo": [simple("Rendered by the usage test.", "Hello {{ who }}!")],
    "delete-demo": [simple("Deleted and restored by a test.", "Bye {{ who }}!")],
    "xss-probe": [HOSTILE_SOURCE],
}
