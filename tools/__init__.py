"""Developer and editor tools behind the invoke tasks in tasks.py (the editors' tools)."""
