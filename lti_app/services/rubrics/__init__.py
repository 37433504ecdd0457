"""Stored rubrics: who may see them, versions frozen by evaluations, files in and out.

A rubric row is one *version*. Versions of the same rubric share a ``lineage_id`` (the id of
version 1); exactly one of them ``is_latest``. A version that a submitted evaluation used is
``frozen``: saving changes to it makes the next version instead, so every evaluation keeps
pointing at the exact criteria and levels its supervisor saw.

Visibility, the rule every view relies on:

* a course sees every version of its own rubrics and may edit the latest one;
* a course sees the latest version of rubrics other courses *of the same platform* shared with
  the institution, and may copy (never edit) them;
* anything else does not exist for it (`RubricNotFound`, which views turn into a 404).

The definition column holds Stint's JSON format (`rubrics.io.to_json`), so what is stored is
exactly what an export produces and what an import accepts.

One module per reason to change: `access` (which rubrics a course sees, and their versions),
`editing` (writing, and freezing a version once an evaluation used it), `files` (import and
export as Stint JSON or Canvas CSV) and `builder` (the builder's working copy). They flush;
the calling view or command commits.
"""
