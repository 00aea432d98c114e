"""`ekatra bench …`: benchmarks of the planner, the outbox dispatcher and the HTTP API.

They print figures and write JSON; nothing here asserts a speed (DESIGN §9).
"""
