"""The demo course on both sides: the development LMS's own, and Stint's seed that mirrors it.

``lms_course`` is what the platform's store writes on first start; ``seed`` and ``cohort`` write
Stint's rows (``stint demo seed``, the dashboard benchmark and tests).
"""
