"""Developer and editor tools behind the invoke tasks in tasks.py (benchmark, editors' tools)."""
