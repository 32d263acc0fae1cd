"""The app: plain-Python state and actions (state.py), thin Flet screens (views.py), the entry (app.py)."""
