"""Stored data is codes; these modules word it in the reader's language when it is shown.

Reasons of a grade, why the matching left a student unplaced, notes in a placement's history
and a failed delivery's last error are kept as a code and its values (``coded``), never as an
English sentence, so each reader sees them in their own language, with numbers written their
way. Rows stored before hold English text and are shown as they are.
"""
