"""Teaching app: a Mesa SolaraViz page served offline (see DESIGN.md section 12).

Importing this package does not import solara; :mod:`.server` does so lazily, after it has
set the offline environment.
"""
