"""Small inputs shared by several test modules."""

#: a two-theme codebook: enough to see terms, inflection and compounds at work
SMALL_CODEBOOK = """\
name: test
version: "1"
codes:
  - id: beredskap
    label: Beredskap
    patterns:
      terms: [beredskap, handlingsplan]
  - id: samverkan
    label: Samverkan
    patterns:
      terms: [samverka, samverkan, socialtjänst]
"""

#: a three-turn interview (interviewer, then two respondent turns) with a `{id}` slot
SMALL_INTERVIEW = """\
---
id: {id}
title: Polis i Kronobergs län
group: polis
main_group: myndigheter
---
I: Hur ser beredskapen ut?

IP: Vi har ingen handlingsplan alls.

IP: Men vi samverkar med socialtjänsten.
"""
