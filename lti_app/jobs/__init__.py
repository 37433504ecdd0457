"""The one home of background work: the queue (``queue``) and one module per kind of work.

Every module here other than ``queue`` is a task module, imported by ``queue.load_task_modules``
when the app is built, so the worker knows each task without a hand-kept list.
"""
