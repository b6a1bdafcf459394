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
