"""Read models: what a page shows, computed in a few statements and kept fresh by change stamps.

They sit at the services layer: they read the models (and the services' own vocabulary, such as
status labels) and return plain values; they never write, and never import views, jobs or the
app factory. ``change_stamps`` is what lets their values be cached across requests: it notes
which course each commit touched, so a summary is reused only while nothing it reads changed.
"""
