"""The partner catalog: partners and projects shared by the courses of one platform.

Every function takes the platform id of the caller's course and never touches another
platform's rows: an id from another institution is "not found", exactly like an id that does not
exist. Functions raise ``CatalogError`` with a message meant for the instructor and change
nothing when they do; the caller commits.

One module per reason to change: `partners`, `projects` (a project and its deliverables, and the
text forms they are typed in), `search` (the catalog page's filters), `csv_import` (projects
from a spreadsheet) and `offers` (the projects one activity offers, and its seats).
"""
